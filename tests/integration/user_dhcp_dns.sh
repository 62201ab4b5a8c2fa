#!/usr/bin/env bash
# User-mode link, no root: the example in DHCP mode gets its lease and the
# got-IP event from the built-in DHCP server, then talks through the
# gateway; gnt_ipapp's getaddrinfo asks the DNS address it leased
# (10.0.2.3), answered from the host's resolver (localhost from /etc/hosts;
# no other name, so that no query leaves this machine).
source "$(dirname "$0")/../lib.sh"
require_tools socat ss python3
port=$(free_port)
host_bg "$TMP/server" socat TCP-LISTEN:"$port",bind=127.0.0.1,fork,reuseaddr EXEC:cat
wait_host_tcp "$port"
GONETIF_LINK=user unprivileged timeout 30 "$GNT_BIN/examples/c_tcp_client/c_tcp_client" --dhcp \
    --host 10.0.2.2 --port "$port" --count 1 >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "client exited with $?"; }
cat "$TMP/out"
grep -q "got IP event for tap: 10.0.2.15" "$TMP/out" || fail "no got-IP event with the leased address"
grep -q "dhcp: bound to 10.0.2.15/255.255.255.0 gw 10.0.2.2 dns \[10.0.2.3\]" "$TMP/out" || fail "lease lacks router or DNS"
grep -q "Received 19 bytes from 10.0.2.2" "$TMP/out" || fail "no reply after DHCP"

GONETIF_LINK=user unprivileged timeout 30 "$GNT_BIN/tests/gnt_ipapp" --dhcp tap0 wait-ip 10 info \
    resolve localhost 4 >"$TMP/ip" 2>&1 || { cat "$TMP/ip"; fail "gnt_ipapp exited with $?"; }
cat "$TMP/ip"
grep -Eq "^EVENT 0x1234 .* ip=10.0.2.15 mask=255.255.255.0 gw=10.0.2.2" "$TMP/ip" || fail "no got-IP event"
grep -q "^DNS main 10.0.2.3" "$TMP/ip" || fail "DNS server not from the lease"
grep -q "^RESOLVED localhost 127.0.0.1" "$TMP/ip" || fail "localhost not resolved through 10.0.2.3"
pass
