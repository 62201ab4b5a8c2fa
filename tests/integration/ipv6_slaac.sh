#!/usr/bin/env bash
# IPv6: the link-local address (esp_netif_create_ip6_linklocal, got-ip6),
# a SLAAC address from dnsmasq's router advertisements (got-ip6 with a
# global address), the host pings both, TCP over IPv6 to the host's global
# and (with a scope id) link-local addresses; the RA's RDNSS option
# becomes the DNS server, asked over IPv6.
source "$(dirname "$0")/../lib.sh"
require_priv dnsmasq
IPAPP=$GNT_BIN/tests/gnt_ipapp
make_ns
make_tap tap0 192.168.5.1/24
in_ns ip addr add fd00:5::1/64 dev tap0 nodad
# The kernel makes its own link-local only once the TAP has a reader: pin one.
in_ns ip addr add fe80::1/64 dev tap0 nodad
cat >"$TMP/dnsmasq.conf" <<CONF
interface=tap0
bind-dynamic
# RDNSS: the pinned link-local (the kernel's own is still tentative, and
# drops queries, for a moment after the app opens the TAP).
dhcp-option=option6:dns-server,[fe80::1]
no-resolv
no-hosts
local=/test/
host-record=v6.test,fd00:5::1
enable-ra
dhcp-range=fd00:5::,ra-only,64,1h
CONF
start_bg "$TMP/dnsmasq.log" dnsmasq -d -C "$TMP/dnsmasq.conf" --pid-file="$TMP/dnsmasq.pid"
wait_line "$TMP/dnsmasq.log" "started"
start_bg "$TMP/server" socat TCP6-LISTEN:3333,fork,reuseaddr SYSTEM:'printf "from=%s " "$SOCAT_PEERADDR"; cat'
wait_listen_tcp 3333
start_bg "$TMP/out" timeout 40 "$IPAPP" --if tap0,192.168.5.100/24,192.168.5.1 ll6 wait-ip6 15 global info \
    resolve v6.test any tcp-echo fd00:5::1 3333 six tcp-echo "fe80::1%" 3333 ll add6 fd00:5::99 sleep 20
APP_PID=$LAST_PID
wait_line "$TMP/out" "^ADD6" 20
ll=$(grep -o "^INFO6 TAP0 fe80[0-9a-f:]*" "$TMP/out" | head -1 | awk '{print $3}')
global=$(grep -o "^INFO6 TAP0 fd00[0-9a-f:]*" "$TMP/out" | head -1 | awk '{print $3}')
[ -n "$ll" ] && [ -n "$global" ] || { cat "$TMP/out"; fail "addresses missing"; }
wait_for 10 in_ns ping -6 -c 1 -W 1 "$global" || fail "no ping reply on the SLAAC address $global"
wait_for 10 in_ns ping -6 -c 1 -W 1 "$ll%tap0" || fail "no ping reply on the link-local address $ll"
wait_for 10 in_ns ping -6 -c 1 -W 1 fd00:5::99 || fail "no ping reply on the added address"
kill "$APP_PID" 2>/dev/null
cat "$TMP/out"
[ "$(grep -Ec "^EVENT6 TAP0 fe80:[0-9a-f:]+ type=2 index=0 thread=sys_evt$" "$TMP/out")" = 1 ] ||
    fail "link-local got-ip6 not exactly once"
grep -Eq "^EVENT6 TAP0 fd00:0005:0000:0000:[0-9a-f:]+ type=4 index=[1-9] thread=sys_evt$" "$TMP/out" ||
    fail "no SLAAC got-ip6"
grep -Eq "^LL6 fe80:[0-9a-f:]+ zone=[1-9]" "$TMP/out" || fail "esp_netif_get_ip6_linklocal"
grep -Eq "^REPLY from=\[$global\] ?six$" "$TMP/out" || fail "TCP over IPv6 (not from the SLAAC address)"
grep -Eq "^REPLY from=\[$ll(%tap0)?\] ?ll$" "$TMP/out" || fail "TCP to the host's link-local address"
grep -q "^DNS main fe80:0000:0000:0000:0000:0000:0000:0001$" "$TMP/out" || fail "RDNSS did not fill the DNS slot"
grep -Eq "^RESOLVED v6.test fd00:5::1 canon=v6.test \(0\.[0-9]s\)$" "$TMP/out" || fail "AAAA lookup over IPv6"
grep -q "^ADD6 0$" "$TMP/out" || fail "esp_netif_add_ip6_address"
grep -q "^EVENT6 TAP0 fd00:0005:0000:0000:0000:0000:0000:0099 type=4 index=[0-9] thread=sys_evt$" "$TMP/out" ||
    fail "no got-ip6 for the added address"
pass
