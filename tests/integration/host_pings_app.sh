#!/usr/bin/env bash
# The host pings the app (ICMP echo, ARP) in offload and in plain TAP mode.
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
make_tap tap0 192.168.5.1/24
for plain in 0 1; do
    GONETIF_TAP_PLAIN=$plain start_bg "$TMP/app$plain" "$APP" sleep 30
    wait_line "$TMP/app$plain" READY
    # The first packets after carrier-on may be dropped: retry, bounded.
    wait_for 10 in_ns ping -c 1 -W 1 192.168.5.100 || fail "no reply to the first ping (plain=$plain)"
    in_ns ping -c 5 -i 0.2 -W 2 192.168.5.100 >"$TMP/ping" || { cat "$TMP/ping"; fail "ping lost replies (plain=$plain)"; }
    grep -q ' 0% packet loss' "$TMP/ping" || fail "packet loss (plain=$plain)"
    in_ns ping -c 2 -s 1400 -W 2 192.168.5.100 >/dev/null || fail "large ping failed (plain=$plain)"
    kill "$LAST_PID"
    wait "$LAST_PID" 2>/dev/null
done
pass
