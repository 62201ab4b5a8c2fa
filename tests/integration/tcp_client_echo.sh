#!/usr/bin/env bash
# examples/c_tcp_client against a socat echo server on the host side.
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
make_tap tap0 192.168.5.1/24
echo_peer 3333
in_ns timeout 30 "$GNT_BIN/examples/c_tcp_client/c_tcp_client" --count 3 --interval-ms 50 >"$TMP/out" 2>&1 ||
    { cat "$TMP/out"; fail "client exited with $?"; }
cat "$TMP/out"
[ "$(grep -c 'Received 19 bytes from 192.168.5.1' "$TMP/out")" = 3 ] || fail "expected 3 replies"
[ "$(grep -c ': Message from ESP32 $' "$TMP/out")" = 3 ] || fail "reply text differs"
pass
