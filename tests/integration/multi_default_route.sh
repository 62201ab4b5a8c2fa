#!/usr/bin/env bash
# Two TAPs, two subnets, one process: static on tap0 (route_prio 50), DHCP
# on tap1 (route_prio 100). Traffic to an off-link address leaves through
# the default interface: the higher priority first, then the one forced by
# esp_netif_set_default_netif, then (back to priorities) the one whose
# esp_netif_set_route_prio was raised. Then DHCP on both TAPs at once.
source "$(dirname "$0")/../lib.sh"
require_priv dnsmasq
IPAPP=$GNT_BIN/tests/gnt_ipapp
make_ns
make_tap tap0 192.168.5.1/24
make_tap tap1 192.168.6.1/24
in_ns ip addr add 10.9.9.9/32 dev lo
cat >"$TMP/dnsmasq.conf" <<CONF
interface=tap1
interface=tap0
bind-interfaces
port=0
dhcp-range=192.168.6.50,192.168.6.60,255.255.255.0,2m
dhcp-range=192.168.5.50,192.168.5.60,255.255.255.0,2m
dhcp-option=tag:tap1,option:router,192.168.6.1
dhcp-option=tag:tap0,option:router,192.168.5.1
dhcp-leasefile=$TMP/leases
CONF
start_bg "$TMP/dnsmasq.log" dnsmasq -d -C "$TMP/dnsmasq.conf" --pid-file="$TMP/dnsmasq.pid"
wait_line "$TMP/dnsmasq.log" "started"
start_bg "$TMP/server" socat TCP-LISTEN:3333,bind=10.9.9.9,fork,reuseaddr SYSTEM:'printf "from=%s " "$SOCAT_PEERADDR"; cat'
wait_listen_tcp 3333
in_ns timeout 40 "$IPAPP" --if tap0,192.168.5.100/24,192.168.5.1,50 --dhcp tap1,100 wait-ip 15 info \
    tcp-echo 10.9.9.9 3333 one set-default 0 info tcp-echo 10.9.9.9 3333 two \
    set-default -1 prio 0 200 info tcp-echo 10.9.9.9 3333 three >"$TMP/out" 2>&1 ||
    { cat "$TMP/out"; fail "app failed"; }
cat "$TMP/out"
[ "$(grep '^DEFAULT' "$TMP/out" | tr '\n' ' ')" = "DEFAULT TAP1 DEFAULT TAP0 DEFAULT TAP0 " ] || fail "default netif sequence"
grep -Eq "^INFO TAP1 ip=192\.168\.6\.(5[0-9]|60) .* dhcp=1$" "$TMP/out" || fail "DHCP on tap1"
grep -q "^INFO TAP0 ip=192.168.5.100 .* dhcp=2$" "$TMP/out" || fail "static on tap0"
grep -Eq "^REPLY from=192\.168\.6\.(5[0-9]|60) ?one$" "$TMP/out" || fail "route by priority (tap1)"
grep -Eq "^REPLY from=192\.168\.5\.100 ?two$" "$TMP/out" || fail "forced default (tap0)"
grep -Eq "^REPLY from=192\.168\.5\.100 ?three$" "$TMP/out" || fail "raised priority (tap0)"
# Two DHCP clients at once, one per TAP (two port-68 sockets, one per NIC).
in_ns timeout 30 "$IPAPP" --dhcp tap0 --dhcp tap1 wait-ip 15 info >"$TMP/out2" 2>&1 ||
    { cat "$TMP/out2"; fail "app with two DHCP clients failed"; }
grep -Eq "^INFO TAP0 ip=192\.168\.5\.(5[0-9]|60) mask=255\.255\.255\.0 gw=192\.168\.5\.1 dhcp=1$" "$TMP/out2" ||
    { cat "$TMP/out2"; fail "DHCP on tap0"; }
grep -Eq "^INFO TAP1 ip=192\.168\.6\.(5[0-9]|60) mask=255\.255\.255\.0 gw=192\.168\.6\.1 dhcp=1$" "$TMP/out2" ||
    { cat "$TMP/out2"; fail "DHCP on tap1"; }
pass
