#!/usr/bin/env bash
# IP events of a static interface (tapif_io's flags: EVENT_IP_MODIFIED |
# AUTOUP): NETIF_UP at start, got-IP (0x1234) on esp_netif_action_connected,
# on esp_netif_set_ip_info with ip_changed 1 then 0 for the same address,
# all on the sys_evt loop thread; DHCP calls on a static interface give
# IDF's error codes.
source "$(dirname "$0")/../lib.sh"
require_priv
IPAPP=$GNT_BIN/tests/gnt_ipapp
make_ns
make_tap tap0 192.168.5.1/24
in_ns timeout 20 "$IPAPP" --if tap0,192.168.5.100/24,192.168.5.1 connected 0 sleep 0.3 \
    set-ip 192.168.5.101/24,192.168.5.1 sleep 0.3 set-ip 192.168.5.101/24,192.168.5.1 sleep 0.3 \
    dhcp-start dhcp-stop info >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "app failed"; }
cat "$TMP/out"
grep -q "^EVENT UP TAP0 thread=sys_evt$" "$TMP/out" || fail "no NETIF_UP"
[ "$(grep '^EVENT 0x1234' "$TMP/out" | sed 's/ thread=.*//' | tr '\n' '|')" = \
"EVENT 0x1234 TAP0 ip=192.168.5.100 mask=255.255.255.0 gw=192.168.5.1 changed=1|\
EVENT 0x1234 TAP0 ip=192.168.5.101 mask=255.255.255.0 gw=192.168.5.1 changed=1|\
EVENT 0x1234 TAP0 ip=192.168.5.101 mask=255.255.255.0 gw=192.168.5.1 changed=0|" ] || fail "got-IP events"
[ "$(grep -c '^EVENT 0x1234.*thread=sys_evt$' "$TMP/out")" = 3 ] || fail "events not on the loop thread"
grep -q "^SET-IP 0$" "$TMP/out" || fail "set_ip_info"
grep -q "^DHCP-START 258$" "$TMP/out" || fail "dhcpc_start on a static netif is not ESP_ERR_INVALID_ARG"
grep -q "^DHCP-STOP 20485$" "$TMP/out" || fail "dhcpc_stop on a static netif is not DHCP_ALREADY_STOPPED"
grep -q "^INFO TAP0 ip=192.168.5.101 mask=255.255.255.0 gw=192.168.5.1 dhcp=2$" "$TMP/out" || fail "ip info"
pass
