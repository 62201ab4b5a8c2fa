#!/usr/bin/env bash
# A driver written in C (post_attach, RX thread calling esp_netif_receive,
# transmit callback) carries a TCP exchange.
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
make_tap tap0 192.168.5.1/24
echo_peer 3333
in_ns timeout 30 "$GNT_BIN/tests/custom_driver" tap0 192.168.5.1 3333 "through a C driver" >"$TMP/out" 2>&1 ||
    { cat "$TMP/out"; fail "custom driver run failed"; }
cat "$TMP/out"
grep -q "^REPLY through a C driver$" "$TMP/out" || fail "no echo"
grep -Eq "^FRAMES rx=[1-9][0-9]* tx=[1-9][0-9]*$" "$TMP/out" || fail "frames did not cross the C driver"
pass
