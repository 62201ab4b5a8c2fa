#!/usr/bin/env bash
# The README's DHCP recipe: examples/c_tcp_client --dhcp against the
# README's own dnsmasq and isc-dhcp-server configurations (extracted from
# README.md), then its TCP exchange with an echo server on the host side.
source "$(dirname "$0")/../lib.sh"
require_priv dnsmasq dhcpd
CLIENT=$GNT_BIN/examples/c_tcp_client/c_tcp_client
readme_block dnsmasq >"$TMP/dnsmasq.conf"
readme_block isc-dhcp-server >"$TMP/dhcpd.conf"
grep -q "dhcp-range" "$TMP/dnsmasq.conf" && grep -q "subnet 192.168.5.0" "$TMP/dhcpd.conf" ||
    fail "README configurations not found"
make_ns
make_tap tap0 192.168.5.1/24
echo_peer 3333

run_client() { # LABEL
    in_ns env EXAMPLE_DHCP_TIMEOUT_S=15 timeout 30 "$CLIENT" --dhcp --count 2 --interval-ms 50 >"$TMP/$1.out" 2>&1 ||
        { cat "$TMP/$1.out"; fail "$1: client exited with $?"; }
    cat "$TMP/$1.out"
    grep -Eq "Assigned IP address:192\.168\.5\.([2-9]|[1-9][0-9]|1[0-9][0-9]|200), gateway 192\.168\.5\.1" "$TMP/$1.out" ||
        fail "$1: no address from the range"
    [ "$(grep -c 'Received 19 bytes from 192.168.5.1' "$TMP/$1.out")" = 2 ] || fail "$1: expected 2 replies"
}

start_bg "$TMP/dnsmasq.log" dnsmasq -d -C "$TMP/dnsmasq.conf" --dhcp-leasefile="$TMP/dnsmasq.leases" \
    --pid-file="$TMP/dnsmasq.pid"
DNSMASQ_PID=$LAST_PID
wait_line "$TMP/dnsmasq.log" "started"
run_client dnsmasq
kill "$DNSMASQ_PID"
wait "$DNSMASQ_PID" 2>/dev/null

: >"$TMP/dhcpd.leases"
start_bg "$TMP/dhcpd.log" dhcpd -f -d -4 -cf "$TMP/dhcpd.conf" -lf "$TMP/dhcpd.leases" -pf "$TMP/dhcpd.pid" tap0
wait_line "$TMP/dhcpd.log" "Sending on" 10
run_client isc-dhcp-server
pass
