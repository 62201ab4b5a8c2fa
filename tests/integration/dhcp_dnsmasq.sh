#!/usr/bin/env bash
# DHCP against dnsmasq: an address in range, router and DNS applied, the
# got-IP event (tapif's id 0x1234) once, on the sys_evt loop thread, with
# the IDF payload; renewals at T1 = 2 s bring no new event; the host can
# reach the leased address; esp_netif_dhcpc_stop releases the lease.
source "$(dirname "$0")/../lib.sh"
require_priv dnsmasq
IPAPP=$GNT_BIN/tests/gnt_ipapp
make_ns
make_tap tap0 192.168.5.1/24
cat >"$TMP/dnsmasq.conf" <<CONF
interface=tap0
bind-interfaces
port=0
log-dhcp
dhcp-range=192.168.5.50,192.168.5.60,255.255.255.0,2m
dhcp-option=option:router,192.168.5.1
dhcp-option=option:dns-server,192.168.5.1,192.168.5.2
dhcp-option=option:T1,2
dhcp-option=option:T2,3
dhcp-leasefile=$TMP/leases
CONF
start_bg "$TMP/dnsmasq.log" dnsmasq -d -C "$TMP/dnsmasq.conf" --pid-file="$TMP/dnsmasq.pid"
wait_line "$TMP/dnsmasq.log" "started"
start_bg "$TMP/out" timeout 40 "$IPAPP" --hostname gntdev --dhcp tap0 wait-ip 15 info \
    set-ip 192.168.5.99/24 dhcp-start sleep 6 dhcp-stop sleep 1 info
APP_PID=$LAST_PID
wait_line "$TMP/out" "^EVENT 0x1234" 20
ip=$(grep -o "^EVENT 0x1234 TAP0 ip=[0-9.]*" "$TMP/out" | head -1 | sed 's/.*ip=//')
wait_for 10 in_ns ping -c 1 -W 1 "$ip" || { cat "$TMP/out"; fail "no ping reply from leased $ip"; }
wait "$APP_PID" || { cat "$TMP/out" "$TMP/dnsmasq.log"; fail "app failed"; }
cat "$TMP/out"
grep -Eq "^EVENT 0x1234 TAP0 ip=192\.168\.5\.(5[0-9]|60) mask=255\.255\.255\.0 gw=192\.168\.5\.1 changed=1 thread=sys_evt$" "$TMP/out" ||
    fail "got-IP event payload wrong"
[ "$(grep -c '^EVENT 0x1234' "$TMP/out")" = 1 ] || fail "got-IP event not exactly once"
grep -q "^INFO TAP0 ip=$ip mask=255.255.255.0 gw=192.168.5.1 dhcp=1$" "$TMP/out" || fail "ip info wrong"
grep -q "^DNS main 192.168.5.1$" "$TMP/out" || fail "main DNS not from the lease"
grep -q "^DNS backup 192.168.5.2$" "$TMP/out" || fail "backup DNS not from the lease"
[ "$(grep -c 'DHCPACK' "$TMP/dnsmasq.log")" -ge 3 ] || { cat "$TMP/dnsmasq.log"; fail "no renewals"; }
grep -q "client provides name: gntdev" "$TMP/dnsmasq.log" || fail "hostname option not sent"
grep -q "^SET-IP 20487$" "$TMP/out" || fail "set_ip_info under DHCP is not DHCP_NOT_STOPPED"
grep -q "^DHCP-START 20484$" "$TMP/out" || fail "second dhcpc_start is not DHCP_ALREADY_STARTED"
grep -q "^DHCP-STOP 0$" "$TMP/out" || fail "dhcpc_stop failed"
grep -q "DHCPRELEASE(tap0) $ip" "$TMP/dnsmasq.log" || { cat "$TMP/dnsmasq.log"; fail "server saw no release"; }
grep -q "^INFO TAP0 ip=0.0.0.0 mask=0.0.0.0 gw=0.0.0.0 dhcp=2$" "$TMP/out" || fail "address kept after stop"
pass
