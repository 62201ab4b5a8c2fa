#!/usr/bin/env bash
# Differential socket suite. The same cases run twice against one peer
# (peer.py in namespace P): once on kernel sockets in namespace D across a
# veth, once on gonetif over a TAP in P. Both outputs must match line by
# line, except the cases listed in differences.txt (each explained in the
# README's "BSD sockets" section).
source "$(dirname "$0")/../lib.sh"
require_priv python3
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$GNT_BIN/tests/conformance
PEER_MAC=02:00:00:00:77:01
DEV_MAC=02:12:34:56:78:ab
MIN_CASES=150

make_ns
DNS="$NS-d"
cleanup_d() { ip netns del "$DNS" 2>/dev/null; cleanup; }
trap cleanup_d EXIT
for ns in "$NS"; do
    in_ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
start_bg "$TMP/peer" python3 -u "$HERE/peer.py" 200
wait_line "$TMP/peer" READY 10

# --- kernel run: the device is namespace D behind a veth named like ours.
ip netns add "$DNS" || fail "cannot create $DNS"
ip -n "$DNS" link set lo up
ip netns exec "$DNS" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv4.ping_group_range="0 2147483647"
ip link add v0 netns "$NS" address $PEER_MAC type veth peer name tp0 netns "$DNS" address $DEV_MAC ||
    fail "cannot create veth"
ip -n "$NS" addr add 192.168.77.1/24 dev v0
ip -n "$DNS" addr add 192.168.77.2/24 dev tp0
ip -n "$NS" link set v0 up
ip -n "$DNS" link set tp0 up
ip -n "$DNS" route add default via 192.168.77.1
timeout 120 ip netns exec "$DNS" "$BIN/conformance_kernel" >"$TMP/kernel.out" 2>"$TMP/kernel.err" ||
    { cat "$TMP/kernel.err"; fail "kernel run exited with $?"; }
ip netns del "$DNS"

# --- gonetif run: the device is our stack on a TAP in P.
ip -n "$NS" link del v0 2>/dev/null
ip -n "$NS" tuntap add dev tap0 mode tap || fail "cannot create TAP"
ip -n "$NS" link set tap0 address $PEER_MAC
ip -n "$NS" addr add 192.168.77.1/24 dev tap0
ip -n "$NS" link set tap0 up
GONETIF_TAP=tap0 GONETIF_MAC=$DEV_MAC GONETIF_LOG_LEVEL=${GONETIF_LOG_LEVEL:-error} \
    timeout 120 ip netns exec "$NS" "$BIN/conformance_gonetif" >"$TMP/ours.out" 2>"$TMP/ours.err" ||
    { cat "$TMP/ours.err"; fail "gonetif run exited with $?"; }

# --- compare.
n=$(grep -c . "$TMP/kernel.out")
mapfile -t allowed < <(grep -v '^#' "$HERE/differences.txt" | awk 'NF {print $1}')
bad=0
while IFS= read -r d; do
    name=$(echo "$d" | sed -E 's/^[<>] *//' | awk '{print $1}')
    skip=0
    for a in "${allowed[@]}"; do [ "$a" = "$name" ] && skip=1; done
    [ $skip = 1 ] && continue
    echo "DIFF $d"
    bad=1
done < <(diff "$TMP/kernel.out" "$TMP/ours.out" | grep '^[<>]')
if [ -n "${GNT_KEEP:-}" ]; then cp "$TMP/kernel.out" "$TMP/ours.out" "$GNT_KEEP"/; fi
echo "$n cases"
[ "$n" -ge $MIN_CASES ] || { bad=1; echo "only $n cases (want >= $MIN_CASES)"; }
[ "$(grep -c . "$TMP/ours.out")" = "$n" ] || { bad=1; echo "case counts differ"; }
[ $bad = 0 ] || fail "kernel and gonetif differ"
pass
