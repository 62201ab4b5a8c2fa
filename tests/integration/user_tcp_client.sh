#!/usr/bin/env bash
# User-mode link, no root: examples/c_tcp_client, run as nobody with no
# capabilities and no TAP, reaches a socat echo on the host's loopback
# through the gateway address (10.0.2.2 = the host's 127.0.0.1), and with
# its built-in addresses when the gateway is put at 192.168.5.1; 20 MB go
# out and come back intact; a closed port is refused.
source "$(dirname "$0")/../lib.sh"
require_tools socat ss python3
port=$(free_port)
host_bg "$TMP/server" socat TCP-LISTEN:"$port",bind=127.0.0.1,fork,reuseaddr EXEC:cat
wait_host_tcp "$port"
GONETIF_LINK=user EXAMPLE_IP=10.0.2.15 EXAMPLE_GW=10.0.2.2 unprivileged timeout 30 \
    "$GNT_BIN/examples/c_tcp_client/c_tcp_client" --host 10.0.2.2 --port "$port" --count 3 --interval-ms 50 \
    >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "client exited with $?"; }
cat "$TMP/out"
grep -q "user-mode network 10.0.2.0/24" "$TMP/out" || fail "no user-mode link log line"
[ "$(grep -c 'Received 19 bytes from 10.0.2.2' "$TMP/out")" = 3 ] || fail "expected 3 replies"
[ "$(grep -c ': Message from ESP32 $' "$TMP/out")" = 3 ] || fail "reply text differs"

# The example's own static set-up (192.168.5.100 via 192.168.5.1, server
# 192.168.5.1) with no EXAMPLE_* overrides: the gateway takes .1.
GONETIF_LINK=user GONETIF_USER_NET=192.168.5.1/24 unprivileged timeout 30 \
    "$GNT_BIN/examples/c_tcp_client/c_tcp_client" --port "$port" --count 1 >"$TMP/defaults" 2>&1 ||
    { cat "$TMP/defaults"; fail "client with its default addresses exited with $?"; }
grep -q "Received 19 bytes from 192.168.5.1" "$TMP/defaults" || { cat "$TMP/defaults"; fail "no reply with the default addresses"; }

# 20 MB out through the gateway and back from the host's echo, checked
# byte by byte.
GONETIF_LINK=user unprivileged timeout 60 "$GNT_BIN/tests/gnt_app" --if tap0,10.0.2.15/24,10.0.2.2 \
    tcp-bulk 10.0.2.2 "$port" 20971520 >"$TMP/bulk" 2>&1 || { cat "$TMP/bulk"; fail "bulk exited with $?"; }
grep -q "^BULK OK 20971520" "$TMP/bulk" || { cat "$TMP/bulk"; fail "bulk echo incomplete"; }

# A closed host port is refused as on a real network.
closed=$(free_port)
GONETIF_LINK=user EXAMPLE_IP=10.0.2.15 EXAMPLE_GW=10.0.2.2 unprivileged timeout 30 \
    "$GNT_BIN/tests/gnt_app" --if tap0,10.0.2.15/24,10.0.2.2 tcp-echo 10.0.2.2 "$closed" hi >"$TMP/refused" 2>&1 &&
    fail "connect to a closed port succeeded"
cat "$TMP/refused"
grep -q "FAIL connect: errno 111" "$TMP/refused" || fail "want ECONNREFUSED for a closed host port"
pass
