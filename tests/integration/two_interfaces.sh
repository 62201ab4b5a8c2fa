#!/usr/bin/env bash
# Two interfaces on two TAPs in one process, two subnets: each connection
# leaves through the interface of its subnet, and the server sees the right
# source address.
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
make_tap tap0 192.168.5.1/24
make_tap tap1 192.168.6.1/24
start_bg "$TMP/server" socat TCP-LISTEN:3333,fork,reuseaddr SYSTEM:'printf "from=%s " "$SOCAT_PEERADDR"; cat'
wait_listen_tcp 3333
in_ns timeout 30 "$APP" --if tap0,192.168.5.100/24,192.168.5.1 --if tap1,192.168.6.100/24 \
    tcp-echo 192.168.5.1 3333 one 192.168.6.1 3333 two >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "app failed"; }
cat "$TMP/out"
grep -Eq "^REPLY from=192.168.5.100 ?one$" "$TMP/out" || fail "tap0 exchange wrong"
grep -Eq "^REPLY from=192.168.6.100 ?two$" "$TMP/out" || fail "tap1 exchange wrong"
# Distinct MACs on the two TAPs: the host learns them by ARP while the app
# is up (the kernel forgets them when the TAP loses its reader).
start_bg "$TMP/app" "$APP" --if tap0,192.168.5.100/24,192.168.5.1 --if tap1,192.168.6.100/24 sleep 30
wait_line "$TMP/app" READY
wait_for 10 in_ns ping -c 1 -W 1 192.168.5.100 || fail "no ping reply on tap0"
wait_for 10 in_ns ping -c 1 -W 1 192.168.6.100 || fail "no ping reply on tap1"
mac0=$(in_ns ip neigh show 192.168.5.100 dev tap0 | grep -o "lladdr [0-9a-f:]*")
mac1=$(in_ns ip neigh show 192.168.6.100 dev tap1 | grep -o "lladdr [0-9a-f:]*")
[ -n "$mac0" ] && [ -n "$mac1" ] && [ "$mac0" != "$mac1" ] || fail "MACs not distinct: '$mac0' '$mac1'"
pass
