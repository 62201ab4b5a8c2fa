#!/usr/bin/env bash
# User-mode link, no root: curl on the host reaches an HTTP server in the
# app through GONETIF_HOSTFWD; 20 MB go through a forward to the app's echo
# server and back byte-exact; a UDP forward echoes a datagram. A malformed
# forward, a bad network, an unknown link kind and a taken host port fail
# tapio_create with a log line.
source "$(dirname "$0")/../lib.sh"
require_tools curl nc socat ss python3 sha256sum head
user_app() { GONETIF_LINK=user unprivileged "$APP" --if tap0,10.0.2.15/24,10.0.2.2 "$@"; }

http=$(free_port)
GONETIF_HOSTFWD=tcp:127.0.0.1:$http-:80 host_bg "$TMP/app" user_app serve-http 80 1
wait_line "$TMP/app" LISTENING
body=$(timeout 10 curl -sS --max-time 5 "http://127.0.0.1:$http/index.html") || { cat "$TMP/app"; fail "curl failed"; }
[ "$body" = "hello from gnt_app" ] || fail "curl got '$body'"
wait_line "$TMP/app" "REQUEST GET /index.html HTTP/1.1"

echo_port=$(free_port)
GONETIF_HOSTFWD=tcp::$echo_port-10.0.2.15:4000 host_bg "$TMP/echo" user_app serve-tcp 4000 1
wait_line "$TMP/echo" LISTENING
head -c 20971520 /dev/urandom >"$TMP/blob"
timeout 60 nc -N 127.0.0.1 "$echo_port" <"$TMP/blob" >"$TMP/back" || fail "bulk nc failed"
[ "$(sha256sum <"$TMP/blob")" = "$(sha256sum <"$TMP/back")" ] || fail "bulk echo corrupted ($(stat -c %s "$TMP/back") bytes back)"
wait_line "$TMP/echo" "ECHOED 20971520"
grep -q "ACCEPTED 10.0.2.2" "$TMP/echo" || fail "forwarded connections should come from the gateway"

udp_port=$(free_port)
GONETIF_HOSTFWD=udp::$udp_port-:5353 host_bg "$TMP/udp" user_app serve-udp 5353 1
wait_line "$TMP/udp" LISTENING
reply=$(printf 'udp hello' | timeout 10 socat -t 2 - UDP:127.0.0.1:"$udp_port") || fail "socat udp failed"
[ "$reply" = "udp hello" ] || fail "UDP forward echoed '$reply'"
wait_line "$TMP/udp" "ECHOED 9"

GONETIF_HOSTFWD=tcp:127.0.0.1:80 user_app sleep 1 >"$TMP/bad" 2>&1 && fail "a malformed forward was accepted"
cat "$TMP/bad"
grep -q "invalid port forward" "$TMP/bad" || fail "no log line for the malformed forward"

GONETIF_USER_NET=10.0.2.0/30 user_app sleep 1 >"$TMP/badnet" 2>&1 && fail "a /30 user network was accepted"
grep -q "GONETIF_USER_NET=\"10.0.2.0/30\": want an IPv4 network" "$TMP/badnet" || { cat "$TMP/badnet"; fail "no log line for the bad network"; }
GONETIF_LINK=slirp unprivileged "$APP" sleep 1 >"$TMP/badlink" 2>&1 && fail "an unknown link kind was accepted"
grep -q 'GONETIF_LINK="slirp": want `tap`, `user`' "$TMP/badlink" || { cat "$TMP/badlink"; fail "no log line for the unknown link kind"; }

host_bg "$TMP/squat" nc -l 127.0.0.1 "$http"
wait_host_tcp "$http"
GONETIF_HOSTFWD=tcp:127.0.0.1:$http-:80 user_app sleep 1 >"$TMP/inuse" 2>&1 && fail "a taken host port was accepted"
cat "$TMP/inuse"
grep -q "host port already in use" "$TMP/inuse" || fail "no log line for the taken host port"
pass
