#!/usr/bin/env bash
# DHCPNAK: the device holds a lease from one dnsmasq; that server is
# replaced by an authoritative one serving another range, which NAKs the
# renewal at T1: lost-IP event, back to DISCOVER, a new address in the new
# range with a second got-IP event (ip_changed = 1).
source "$(dirname "$0")/../lib.sh"
require_priv dnsmasq
IPAPP=$GNT_BIN/tests/gnt_ipapp
make_ns
make_tap tap0 192.168.5.1/24
conf() { # RANGE_START RANGE_END [extra]
    cat <<CONF
interface=tap0
bind-interfaces
port=0
log-dhcp
dhcp-range=$1,$2,255.255.255.0,2m
dhcp-option=option:router,192.168.5.1
dhcp-option=option:T1,2
dhcp-option=option:T2,3
dhcp-leasefile=$TMP/leases
${3:-}
CONF
}
conf 192.168.5.50 192.168.5.60 >"$TMP/a.conf"
conf 192.168.5.150 192.168.5.160 dhcp-authoritative >"$TMP/b.conf"
start_bg "$TMP/a.log" dnsmasq -d -C "$TMP/a.conf" --pid-file="$TMP/a.pid"
A_PID=$LAST_PID
wait_line "$TMP/a.log" "started"
start_bg "$TMP/out" timeout 40 "$IPAPP" --dhcp tap0 wait-ip 15 sleep 20
APP_PID=$LAST_PID
wait_line "$TMP/out" "^EVENT 0x1234" 20
kill "$A_PID"
wait "$A_PID" 2>/dev/null
rm -f "$TMP/leases"
start_bg "$TMP/b.log" dnsmasq -d -C "$TMP/b.conf" --pid-file="$TMP/b.pid"
wait_line "$TMP/out" "^EVENT 0x1235 TAP0" 15
wait_for 15 sh -c "[ \$(grep -c '^EVENT 0x1234' '$TMP/out') -ge 2 ]" || { cat "$TMP/out" "$TMP/b.log"; fail "no new lease"; }
kill "$APP_PID" 2>/dev/null
cat "$TMP/out"
grep -q "DHCPNAK" "$TMP/b.log" || { cat "$TMP/b.log"; fail "server sent no NAK"; }
grep -q "refused (NAK)" "$TMP/out" || fail "client did not see the NAK"
grep -Eq "^EVENT 0x1234 TAP0 ip=192\.168\.5\.(5[0-9]|60) " "$TMP/out" || fail "first lease wrong"
grep -Eq "^EVENT 0x1234 TAP0 ip=192\.168\.5\.1(5[0-9]|60) .* changed=1 " "$TMP/out" || fail "second lease wrong"
pass
