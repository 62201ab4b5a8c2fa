#!/usr/bin/env bash
# A C TCP server in the app accepts host clients (nc): a short message and
# 4 MiB of random data, echoed back intact.
source "$(dirname "$0")/../lib.sh"
require_priv sha256sum head
make_ns
make_tap tap0 192.168.5.1/24
start_bg "$TMP/app" "$APP" serve-tcp 4000 2
wait_line "$TMP/app" LISTENING
reply=$(printf 'hello gonetif' | in_ns timeout 10 nc -N 192.168.5.100 4000) || fail "nc failed"
[ "$reply" = "hello gonetif" ] || fail "echo was '$reply'"
head -c 4194304 /dev/urandom >"$TMP/blob"
in_ns timeout 30 nc -N 192.168.5.100 4000 <"$TMP/blob" >"$TMP/back" || fail "bulk nc failed"
[ "$(sha256sum <"$TMP/blob")" = "$(sha256sum <"$TMP/back")" ] || fail "bulk echo corrupted ($(stat -c %s "$TMP/back") bytes back)"
wait_line "$TMP/app" "ECHOED 4194304"
grep -q "ACCEPTED 192.168.5.1" "$TMP/app" || fail "peer address not reported"
pass
