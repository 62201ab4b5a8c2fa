#!/usr/bin/env bash
# getaddrinfo/gethostbyname through gonetif's resolver against dnsmasq:
# A, AAAA, AF_UNSPEC (IPv4 first: the device has no global IPv6 address),
# CNAME and AI_CANONNAME, NXDOMAIN -> EAI_NONAME, a dead main server ->
# timeout then the backup, a truncated answer -> retry over TCP.
source "$(dirname "$0")/../lib.sh"
require_priv dnsmasq
IPAPP=$GNT_BIN/tests/gnt_ipapp
make_ns
make_tap tap0 192.168.5.1/24
# 120 A records: larger than the 1232 bytes we accept over UDP.
for i in $(seq 1 120); do echo "10.1.0.$i big.test"; done >"$TMP/big.hosts"
cat >"$TMP/dnsmasq.conf" <<CONF
interface=tap0
bind-interfaces
no-resolv
no-hosts
log-queries
local=/test/
addn-hosts=$TMP/big.hosts
host-record=a.test,192.168.5.10
host-record=both.test,192.168.5.11,fd00::11
host-record=six.test,fd00::12
cname=alias.test,a.test
CONF
start_bg "$TMP/dnsmasq.log" dnsmasq -d -C "$TMP/dnsmasq.conf" --pid-file="$TMP/dnsmasq.pid"
wait_listen_udp 53
in_ns timeout 60 "$IPAPP" --if tap0,192.168.5.100/24,192.168.5.1 dns main 192.168.5.1 \
    resolve a.test 4 resolve six.test 6 resolve both.test any resolve alias.test 4 \
    resolve nope.test 4 resolve six.test 4 resolve big.test 4 resolve 192.168.5.7 any hostbyname a.test \
    dns main 192.168.5.99 dns backup 192.168.5.1 resolve a.test 4 >"$TMP/out" 2>&1 ||
    { cat "$TMP/out"; fail "app failed"; }
cat "$TMP/out"
grep -q "^RESOLVED a.test 192.168.5.10 canon=a.test" "$TMP/out" || fail "A"
grep -q "^RESOLVED six.test fd00::12 " "$TMP/out" || fail "AAAA"
[ "$(grep '^RESOLVED both.test' "$TMP/out" | awk '{print $3}' | tr '\n' ' ')" = "192.168.5.11 fd00::11 " ] ||
    fail "AF_UNSPEC order"
grep -q "^RESOLVED alias.test 192.168.5.10 canon=a.test" "$TMP/out" || fail "CNAME/canonical name"
grep -q "^GAI nope.test -2 " "$TMP/out" || fail "NXDOMAIN is not EAI_NONAME"
grep -q "^GAI six.test -5 " "$TMP/out" || fail "no A record is not EAI_NODATA"
# All 120 records, as glibc: only the whole answer, over TCP, holds them.
[ "$(grep -c '^RESOLVED big.test 10.1.0.' "$TMP/out")" = 120 ] || fail "truncated answer not completed over TCP"
grep -q "^RESOLVED 192.168.5.7 192.168.5.7 canon=192.168.5.7" "$TMP/out" || fail "numeric host"
grep -q "^HOSTBYNAME a.test 192.168.5.10$" "$TMP/out" || fail "gethostbyname"
line=$(grep "^RESOLVED a.test" "$TMP/out" | tail -1)
secs=$(echo "$line" | sed 's/.*(\([0-9.]*\)s)/\1/')
awk "BEGIN{exit !($secs >= 1.0)}" || fail "backup answered without a timeout on the dead main server ($line)"
pass
