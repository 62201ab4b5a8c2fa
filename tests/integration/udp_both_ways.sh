#!/usr/bin/env bash
# UDP: the host sends to an echo server in the app, and the app sends to an
# echo server on the host.
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
make_tap tap0 192.168.5.1/24
start_bg "$TMP/app" "$APP" serve-udp 5000 1
wait_line "$TMP/app" LISTENING
reply=$(printf 'ping over udp' | in_ns timeout 10 socat -T 5 - UDP:192.168.5.100:5000) || fail "socat failed"
[ "$reply" = "ping over udp" ] || fail "host got '$reply'"
wait_line "$TMP/app" "ECHOED 13"

start_bg "$TMP/echo" socat UDP-RECVFROM:6000,fork EXEC:cat
wait_listen_udp 6000
in_ns timeout 20 "$APP" udp-echo 192.168.5.1 6000 "hello host" >"$TMP/client" 2>&1 || { cat "$TMP/client"; fail "app udp-echo failed"; }
grep -q "^REPLY hello host$" "$TMP/client" || { cat "$TMP/client"; fail "app got no echo"; }
pass
