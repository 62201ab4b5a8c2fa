#!/usr/bin/env bash
# A C app under GONETIF_OUT_LOSS/IN_LOSS with GONETIF_TCP_MIN_RTO_MS: the
# TAP runs plain (the log says so), TCP echo still works through 5 % loss
# each way, and a malformed GONETIF_TCP_MIN_RTO_MS is refused with a log line.
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
make_tap tap0 192.168.5.1/24
echo_peer 3333
msgs=()
for i in $(seq 1 20); do msgs+=(192.168.5.1 3333 "message $i through loss"); done
in_ns env GONETIF_IN_LOSS=5 GONETIF_OUT_LOSS=5 GONETIF_TCP_MIN_RTO_MS=20 timeout 60 "$APP" tcp-echo "${msgs[@]}" \
    >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "tcp-echo through loss exited with $?"; }
[ "$(grep -c '^REPLY message [0-9]* through loss$' "$TMP/out")" = 20 ] || { cat "$TMP/out"; fail "expected 20 replies"; }
grep -q "plain: loss 5% in, 5% out" "$TMP/out" || { cat "$TMP/out"; fail "no log line saying the lossy TAP runs plain"; }

in_ns env GONETIF_TCP_MIN_RTO_MS=abc timeout 20 "$APP" sleep 0 >"$TMP/bad" 2>&1 && { cat "$TMP/bad"; fail "GONETIF_TCP_MIN_RTO_MS=abc accepted"; }
grep -q 'GONETIF_TCP_MIN_RTO_MS="abc"' "$TMP/bad" || { cat "$TMP/bad"; fail "no log line naming the bad value"; }
pass
