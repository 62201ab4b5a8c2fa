#!/usr/bin/env bash
# A datagram sent just before exit to a peer the app never resolved: the
# exit drain waits (within GONETIF_EXIT_LINGER_MS) for the neighbour
# resolution it is queued behind, so the peer receives it. The app's
# received frames are delayed (GONETIF_IN_DELAY), so the ARP reply always
# comes after the app's main() has returned; with GONETIF_EXIT_LINGER_MS=0
# the datagram is lost, as that setting says.
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
make_tap tap0 192.168.5.1/24

# send LINGER_MS TEXT: the app sends TEXT and exits; prints the app's ms.
send() {
    local start end
    start=$(date +%s%N)
    in_ns env GONETIF_IN_DELAY=300ms GONETIF_EXIT_LINGER_MS="$1" timeout 20 "$APP" udp-send 192.168.5.1 6100 "$2" \
        >"$TMP/app_$1" 2>&1 || { cat "$TMP/app_$1"; fail "app udp-send failed (linger $1)"; }
    end=$(date +%s%N)
    grep -q "^SENT $2$" "$TMP/app_$1" || { cat "$TMP/app_$1"; fail "app did not send (linger $1)"; }
    MS=$(((end - start) / 1000000))
}

udp_peer "$TMP/peer" 192.168.5.1 6100
in_ns ip neigh flush dev tap0

send 2000 "before exit"
wait_for 3 grep -q "^from 192.168.5.100 11 before exit$" "$TMP/peer" ||
    { cat "$TMP/peer" "$TMP/app_2000"; fail "the peer did not receive the datagram sent just before exit"; }
echo "linger 2000: delivered, the app took $MS ms"
[ "$MS" -lt 2000 ] || fail "the exit waited $MS ms, more than the resolution needed"

in_ns ip neigh flush dev tap0
send 0 "no linger"
sleep 1
grep -q "no linger" "$TMP/peer" && fail "GONETIF_EXIT_LINGER_MS=0 still waited for the resolution"
echo "linger 0: not waited for, the app took $MS ms"
pass
