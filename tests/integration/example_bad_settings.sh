#!/usr/bin/env bash
# The example with bad settings: it fails, the log names the setting at
# fault, and it does not blame a missing TAP when the TAP is there.
source "$(dirname "$0")/../lib.sh"
require_priv
EXAMPLE=$GNT_BIN/examples/c_tcp_client/c_tcp_client
make_ns
make_tap tap0 192.168.5.1/24
check() {
    local want=$1
    shift
    if in_ns env "$@" timeout 20 "$EXAMPLE" --count 1 >"$TMP/out" 2>&1; then
        cat "$TMP/out"
        fail "the example ran with $*"
    fi
    grep -q "$want" "$TMP/out" || { cat "$TMP/out"; fail "$*: the log does not name $want"; }
    ! grep -qi "no TAP device\|make_tap_netif" "$TMP/out" || { cat "$TMP/out"; fail "$*: blames a missing TAP"; }
}
check GONETIF_MAC GONETIF_MAC=zz:zz
check GONETIF_MTU GONETIF_MTU=10
check "$TMP/nodir/x.pcap" GONETIF_PCAP="$TMP/nodir/x.pcap"
# A TAP that really is missing is named, with how to make one.
in_ns env GONETIF_TAP=nosuch0 timeout 20 "$EXAMPLE" --count 1 >"$TMP/out" 2>&1 && fail "ran without a TAP"
grep -q "make_tap_netif" "$TMP/out" && grep -q "GONETIF_TAP" "$TMP/out" && ! grep -q "Options\." "$TMP/out" ||
    { cat "$TMP/out"; fail "missing TAP: no hint in the names C users set"; }
pass
