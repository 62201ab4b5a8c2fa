#!/usr/bin/env bash
# DHCP against isc-dhcp-server with the seed's configuration (tapif_io's
# README), leases cut to 6 s: address in range, router and DNS applied,
# got-IP once; a renewal at T1; then the server stops: the client rebinds
# at T2 and at expiry posts the lost-IP event.
source "$(dirname "$0")/../lib.sh"
require_priv dhcpd
IPAPP=$GNT_BIN/tests/gnt_ipapp
make_ns
make_tap tap0 192.168.5.1/24
cat >"$TMP/dhcpd.conf" <<CONF
default-lease-time 6;
max-lease-time 6;
ddns-update-style none;
authoritative;
subnet 192.168.5.0 netmask 255.255.255.0 {
  range 192.168.5.2 192.168.5.200;
  option routers 192.168.5.1;
  option domain-name-servers 192.168.5.1;
}
CONF
: >"$TMP/dhcpd.leases"
start_bg "$TMP/dhcpd.log" dhcpd -f -d -4 -cf "$TMP/dhcpd.conf" -lf "$TMP/dhcpd.leases" -pf "$TMP/dhcpd.pid" tap0
DHCPD_PID=$LAST_PID
wait_line "$TMP/dhcpd.log" "Sending on" 10
start_bg "$TMP/out" timeout 40 "$IPAPP" --dhcp tap0 wait-ip 15 info sleep 20
APP_PID=$LAST_PID
wait_line "$TMP/out" "^EVENT 0x1234" 20
wait_for 10 sh -c "[ \$(grep -c '^DHCPACK' '$TMP/dhcpd.log') -ge 2 ]" || { cat "$TMP/dhcpd.log"; fail "no renewal"; }
kill "$DHCPD_PID"
wait_line "$TMP/out" "^EVENT 0x1235 TAP0" 15
kill "$APP_PID" 2>/dev/null
cat "$TMP/out"
grep -Eq "^EVENT 0x1234 TAP0 ip=192\.168\.5\.[0-9]+ mask=255\.255\.255\.0 gw=192\.168\.5\.1 changed=1 thread=sys_evt$" "$TMP/out" ||
    fail "got-IP event payload wrong"
[ "$(grep -c '^EVENT 0x1234' "$TMP/out")" = 1 ] || fail "got-IP event not exactly once"
grep -q "^DNS main 192.168.5.1$" "$TMP/out" || fail "DNS not from the lease"
grep -q "rebinding" "$TMP/out" || fail "no rebinding after T2"
grep -q "expired" "$TMP/out" || fail "no expiry"
pass
