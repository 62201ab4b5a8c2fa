#!/usr/bin/env bash
# SO_BINDTODEVICE picks the interface: two TAPs, a server reachable through
# both, tap1 the default by priority. Connections bound to tp0 (the impl
# name) or TAP1 (the if_key) leave by that interface, whatever the default.
source "$(dirname "$0")/../lib.sh"
require_priv
IPAPP=$GNT_BIN/tests/gnt_ipapp
make_ns
make_tap tap0 192.168.5.1/24
make_tap tap1 192.168.6.1/24
in_ns ip addr add 10.9.9.9/32 dev lo
start_bg "$TMP/server" socat TCP-LISTEN:3333,bind=10.9.9.9,fork,reuseaddr SYSTEM:'printf "from=%s " "$SOCAT_PEERADDR"; cat'
wait_listen_tcp 3333
in_ns timeout 30 "$IPAPP" --if tap0,192.168.5.100/24,192.168.5.1,50 --if tap1,192.168.6.100/24,192.168.6.1,100 \
    tcp-echo 10.9.9.9 3333 default tcp-echo-dev tp0 10.9.9.9 3333 bound0 \
    tcp-echo-dev TAP1 10.9.9.9 3333 bound1 >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "app failed"; }
grep -Eq "^REPLY from=192\.168\.6\.100 ?default$" "$TMP/out" || { cat "$TMP/out"; fail "default route is not tap1"; }
grep -Eq "^REPLY from=192\.168\.5\.100 ?bound0$" "$TMP/out" || { cat "$TMP/out"; fail "SO_BINDTODEVICE tp0 did not use tap0"; }
grep -Eq "^REPLY from=192\.168\.6\.100 ?bound1$" "$TMP/out" || { cat "$TMP/out"; fail "SO_BINDTODEVICE TAP1 did not use tap1"; }
pass
