#!/usr/bin/env bash
# The delay layer on a real TAP: the host's ping round trip to the app
# grows by GONETIF_IN_DELAY + GONETIF_OUT_DELAY, and TCP still works.
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
make_tap tap0 192.168.5.1/24
GONETIF_IN_DELAY=30ms GONETIF_OUT_DELAY=20ms start_bg "$TMP/app" "$APP" serve-tcp 5000 1
wait_line "$TMP/app" LISTENING
wait_for 10 in_ns ping -c 1 -W 1 192.168.5.100 || fail "no reply to the first ping"
in_ns ping -c 5 -i 0.2 -W 2 192.168.5.100 >"$TMP/ping" || { cat "$TMP/ping"; fail "ping lost replies"; }
# rtt min/avg/max/mdev = 50.412/50.611/50.944/0.181 ms
min=$(sed -n 's|^rtt min/avg/max/mdev = \([0-9.]*\)/.*|\1|p' "$TMP/ping")
[ -n "$min" ] || { cat "$TMP/ping"; fail "no RTT in ping's output"; }
awk -v m="$min" 'BEGIN { exit !(m >= 50 && m < 90) }' || { cat "$TMP/ping"; fail "RTT $min ms, want 50 ms (+ < 40) with 30 ms in + 20 ms out"; }
reply=$(printf 'through a long cable' | in_ns timeout 10 socat -T 5 - TCP:192.168.5.100:5000) || fail "socat failed"
[ "$reply" = "through a long cable" ] || fail "host got '$reply'"
wait_line "$TMP/app" "ECHOED 20"
pass
