#!/usr/bin/env bash
# Differential socket suite. The same cases run twice against one peer
# (peer.py in namespace P): once on kernel sockets in namespace D across a
# veth, once on gonetif over a TAP in P. Both outputs must match line by
# line, except the cases listed in differences.txt (each explained in the
# README's "BSD sockets" section).
source "$(dirname "$0")/../lib.sh"
require_priv python3 tcpdump
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$GNT_BIN/tests/conformance
PEER_MAC=02:00:00:00:77:01
DEV_MAC=02:12:34:56:78:ab
MIN_CASES=150

make_ns
DNS="$NS-d"
cleanup_d() {
    # GNT_KEEP keeps the outputs of a failed run too.
    if [ -n "${GNT_KEEP:-}" ]; then cp "$TMP"/kernel.* "$TMP"/ours.* "$GNT_KEEP"/ 2>/dev/null; fi
    ip netns del "$DNS" 2>/dev/null
    cleanup
}
trap cleanup_d EXIT
for ns in "$NS"; do
    in_ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
start_bg "$TMP/peer" python3 -u "$HERE/peer.py" 200
wait_line "$TMP/peer" READY 10

# Capture on the peer's side of the link while a run goes on.
start_cap() {
    ip netns exec "$NS" tcpdump -i "$1" -nn -U -s 256 -w "$2" 2>"$2.log" &
    CAP_PID=$!
    PIDS+=($CAP_PID)
    wait_for 10 grep -q "listening on" "$2.log" || fail "tcpdump did not start on $1"
}
stop_cap() {
    sleep 0.3
    kill -INT "$CAP_PID" 2>/dev/null
    wait "$CAP_PID" 2>/dev/null
}
# What the wire cases must show, one line each, appended to a run's output.
wire_facts() {
    local f=$1 n
    rd() { tcpdump -nn -v -r "$f" "$@" 2>/dev/null; }
    n=$(rd 'src host 192.168.77.2 and udp dst port 7005 and ip[8] = 7 and ip[1] = 0x10' | grep -c 'tos 0x10, ttl 7,')
    printf '%-44s %s\n' wire.seen_ttl7_tos0x10 "$([ "$n" -ge 1 ] && echo yes || echo no)"
    n=$(rd 'src host 192.168.77.2 and dst host 192.168.77.255 and udp' | grep -c .)
    printf '%-44s %s\n' wire.seen_broadcast "$([ "$n" -ge 1 ] && echo yes || echo no)"
    n=$(rd 'src host 192.168.77.2 and igmp' | grep -c '239.1.2.3')
    printf '%-44s %s\n' wire.seen_igmp_join_and_leave "$([ "$n" -ge 2 ] && echo yes || echo no)"
    n=$(rd 'ip6 and src host fe80::12:34ff:fe56:78ab' | grep -i 'multicast listener report' | grep -c 'ff02::1:3')
    printf '%-44s %s\n' wire.seen_mld_join "$([ "$n" -ge 1 ] && echo yes || echo no)"
    # (How far Nagle coalesces depends on the link's delay: over a veth the
    # peer's ACK is back before the next write, so it is not compared.)
    n=$(rd 'src host 192.168.77.2 and tcp dst port 7008' | grep -cE 'Flags .*length [1-9][0-9]*$')
    printf '%-44s %s\n' wire.nodelay_segments_11 "$([ "$n" -ge 10 ] && echo yes || echo "no ($n)")"
    n=$(rd 'src host 192.168.77.2 and tcp dst port 7004 and tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) = 0' | grep -c 'length 0')
    printf '%-44s %s\n' wire.keepalive_probes_at_least_2 "$([ "$n" -ge 3 ] && echo yes || echo "no ($n)")"
}

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
start_cap v0 "$TMP/kernel.pcap"
timeout 120 ip netns exec "$DNS" "$BIN/conformance_kernel" >"$TMP/kernel.out" 2>"$TMP/kernel.err" ||
    { rc=$?; tail -5 "$TMP/kernel.out"; cat "$TMP/kernel.err"; fail "kernel run exited with $rc"; }
stop_cap
wire_facts "$TMP/kernel.pcap" >>"$TMP/kernel.out"
# Port exhaustion, bounded: 16 ephemeral ports for this run only.
ip netns exec "$DNS" sysctl -qw net.ipv4.ip_local_port_range="40000 40015"
timeout 60 ip netns exec "$DNS" "$BIN/conformance_kernel" ports >>"$TMP/kernel.out" 2>>"$TMP/kernel.err" ||
    fail "kernel ports run exited with $?"
ip netns del "$DNS"

# --- gonetif run: the device is our stack on a TAP in P.
ip -n "$NS" link del v0 2>/dev/null
ip -n "$NS" tuntap add dev tap0 mode tap || fail "cannot create TAP"
ip -n "$NS" link set tap0 address $PEER_MAC
ip -n "$NS" addr add 192.168.77.1/24 dev tap0
ip -n "$NS" link set tap0 up
start_cap tap0 "$TMP/ours.pcap"
GONETIF_TAP=tap0 GONETIF_MAC=$DEV_MAC GONETIF_LOG_LEVEL=${GONETIF_LOG_LEVEL:-error} \
    timeout 120 ip netns exec "$NS" "$BIN/conformance_gonetif" >"$TMP/ours.out" 2>"$TMP/ours.err" ||
    { rc=$?; tail -5 "$TMP/ours.out"; cat "$TMP/ours.err"; fail "gonetif run exited with $rc"; }
stop_cap
wire_facts "$TMP/ours.pcap" >>"$TMP/ours.out"
GONETIF_TAP=tap0 GONETIF_MAC=$DEV_MAC GONETIF_LOG_LEVEL=${GONETIF_LOG_LEVEL:-error} \
    GONETIF_LOCAL_PORT_RANGE="40000 40015" \
    timeout 60 ip netns exec "$NS" "$BIN/conformance_gonetif" ports >>"$TMP/ours.out" 2>>"$TMP/ours.err" ||
    fail "gonetif ports run exited with $?"

# --- compare.
n=$(grep -c . "$TMP/kernel.out")
mapfile -t allowed < <(grep -v '^#' "$HERE/differences.txt" | awk 'NF {print $1}')
bad=0
while IFS= read -r d; do
    name=$(echo "$d" | sed -E 's/^[<>] *//' | awk '{print $1}')
    skip=0
    for a in "${allowed[@]}"; do [ "$a" = "$name" ] && skip=1; done
    if [ $skip = 1 ]; then
        echo "allowed difference: $d"
        continue
    fi
    echo "DIFF $d"
    bad=1
done < <(diff "$TMP/kernel.out" "$TMP/ours.out" | grep '^[<>]')
echo "$n cases"
[ "$n" -ge $MIN_CASES ] || { bad=1; echo "only $n cases (want >= $MIN_CASES)"; }
[ "$(grep -c . "$TMP/ours.out")" = "$n" ] || { bad=1; echo "case counts differ"; }
[ $bad = 0 ] || fail "kernel and gonetif differ"
pass
