#!/usr/bin/env bash
# The app's compile-time CONFIG_EXAMPLE_CONNECT_TAPIF_IN_LOSS reaches the
# library: gnt_app built with it at 100 drops every received frame (the
# host's datagrams get no echo); GONETIF_IN_LOSS=0 overrides it at run time
# and the same binary answers.
source "$(dirname "$0")/../lib.sh"
require_priv
LOSSY_APP=$GNT_BIN/tests/gnt_app_inloss100
[ -x "$LOSSY_APP" ] || fail "$LOSSY_APP not built"
make_ns
make_tap tap0 192.168.5.1/24

start_bg "$TMP/lossy" "$LOSSY_APP" serve-udp 5000 1
wait_line "$TMP/lossy" LISTENING
for i in 1 2 3; do
    reply=$(printf 'ping %d' "$i" | in_ns timeout 5 socat -T 1 - UDP:192.168.5.100:5000)
    [ -z "$reply" ] || fail "in-loss 100 from sdkconfig: host got '$reply'"
done
grep -q ECHOED "$TMP/lossy" && fail "the app received a datagram despite in-loss 100"
kill "$LAST_PID"; wait "$LAST_PID" 2>/dev/null
in_ns ip neigh flush dev tap0

GONETIF_IN_LOSS=0 start_bg "$TMP/override" "$LOSSY_APP" serve-udp 5000 1
wait_line "$TMP/override" LISTENING
reply=$(printf 'ping over udp' | in_ns timeout 10 socat -T 5 - UDP:192.168.5.100:5000) || fail "socat failed"
[ "$reply" = "ping over udp" ] || fail "GONETIF_IN_LOSS=0 did not override the compile-time 100: host got '$reply'"
pass
