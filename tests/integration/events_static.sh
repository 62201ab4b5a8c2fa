#!/usr/bin/env bash
# IP events of a static interface (tapif_io's flags: EVENT_IP_MODIFIED |
# AUTOUP): NETIF_UP at start, got-IP (0x1234) on esp_netif_action_connected,
# on esp_netif_set_ip_info with ip_changed 1 then 0 for the same address,
# all on the sys_evt loop thread; DHCP calls on a static interface give
# IDF's error codes; after esp_netif_action_disconnected the lost-IP timer
# (GONETIF_IP_LOST_TIMER_MS here, IDF's 120 s by default) posts lost-IP
# unless the interface reconnects first; the address works again after.
source "$(dirname "$0")/../lib.sh"
require_priv
IPAPP=$GNT_BIN/tests/gnt_ipapp
make_ns
make_tap tap0 192.168.5.1/24
start_bg "$TMP/server" socat TCP-LISTEN:3333,fork,reuseaddr SYSTEM:'printf "from=%s " "$SOCAT_PEERADDR"; cat'
wait_listen_tcp 3333
hostmac=$(in_ns cat /sys/class/net/tap0/address)
in_ns env GONETIF_IP_LOST_TIMER_MS=300 timeout 20 "$IPAPP" --if tap0,192.168.5.100/24,192.168.5.1 connected 0 sleep 0.3 \
    set-ip 192.168.5.101/24,192.168.5.1 sleep 0.3 set-ip 192.168.5.101/24,192.168.5.1 sleep 0.3 \
    dhcp-start dhcp-stop info disconnected 0 sleep 0.6 connected 0 disconnected 0 connected 0 sleep 0.6 \
    tcp-echo 192.168.5.1 3333 back arp "$hostmac" >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "app failed"; }
cat "$TMP/out"
grep -q "^EVENT UP TAP0 thread=sys_evt$" "$TMP/out" || fail "no NETIF_UP"
[ "$(grep '^EVENT 0x123' "$TMP/out" | sed 's/ thread=.*//' | tr '\n' '|')" = \
"EVENT 0x1234 TAP0 ip=192.168.5.100 mask=255.255.255.0 gw=192.168.5.1 changed=1|\
EVENT 0x1234 TAP0 ip=192.168.5.101 mask=255.255.255.0 gw=192.168.5.1 changed=1|\
EVENT 0x1234 TAP0 ip=192.168.5.101 mask=255.255.255.0 gw=192.168.5.1 changed=0|\
EVENT 0x1235 TAP0 ip=0.0.0.0 mask=0.0.0.0 gw=0.0.0.0 changed=0|\
EVENT 0x1234 TAP0 ip=192.168.5.101 mask=255.255.255.0 gw=192.168.5.1 changed=1|\
EVENT 0x1234 TAP0 ip=192.168.5.101 mask=255.255.255.0 gw=192.168.5.1 changed=1|" ] || fail "IP events"
[ "$(grep -c '^EVENT 0x123.*thread=sys_evt$' "$TMP/out")" = 6 ] || fail "events not on the loop thread"
grep -Eq "^REPLY from=192\.168\.5\.101 ?back$" "$TMP/out" || fail "no traffic after reconnecting"
grep -q "^SET-IP 0$" "$TMP/out" || fail "set_ip_info"
grep -q "^DHCP-START 258$" "$TMP/out" || fail "dhcpc_start on a static netif is not ESP_ERR_INVALID_ARG"
grep -q "^DHCP-STOP 20485$" "$TMP/out" || fail "dhcpc_stop on a static netif is not DHCP_ALREADY_STOPPED"
grep -q "^INFO TAP0 ip=192.168.5.101 mask=255.255.255.0 gw=192.168.5.1 dhcp=2$" "$TMP/out" || fail "ip info"
grep -q "^ARP 0 192.168.5.1$" "$TMP/out" || fail "esp_netif_arp_get_client_by_mac"
pass
