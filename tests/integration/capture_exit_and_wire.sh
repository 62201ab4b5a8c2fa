#!/usr/bin/env bash
# Captures (GONETIF_PCAP) hold every frame although the app exits without
# esp_netif_destroy, hold the last frames when SIGINT kills it, and show
# what crossed the TAP: with GONETIF_OUT_LOSS=100 not one frame of the app.
# Each capture is checked against tcpdump on the host side of the TAP.
source "$(dirname "$0")/../lib.sh"
require_priv tshark tcpdump
make_ns
make_tap tap0 192.168.5.1/24
APP_MAC=02:12:34:56:78:ab

# count FILE FILTER: frames of FILE matching the display filter.
count() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }

# host_capture FILE: tcpdump on the host side until stop_host_capture.
host_capture() {
    start_bg "$TMP/tcpdump.log" tcpdump -i tap0 --immediate-mode -U -n -w "$1"
    TCPDUMP=$LAST_PID
    wait_for 10 grep -q "listening on" "$TMP/tcpdump.log" || fail "tcpdump did not start"
}
stop_host_capture() {
    sleep 0.3 # let tcpdump write what it has
    kill -INT "$TCPDUMP"
    wait "$TCPDUMP" 2>/dev/null
}

# 1. A full UDP exchange, then main returns (no esp_netif_destroy).
host_capture "$TMP/host1.pcap"
start_bg "$TMP/app1" env GONETIF_PCAP="$TMP/app1.pcap" "$APP" serve-udp 5000 1
app=$LAST_PID
wait_line "$TMP/app1" LISTENING
reply=$(printf 'frame at exit' | in_ns timeout 10 socat -T 5 - UDP:192.168.5.100:5000) || fail "socat failed"
[ "$reply" = "frame at exit" ] || fail "host got '$reply'"
wait "$app" || { cat "$TMP/app1"; fail "app exited with $?"; }
stop_host_capture
ours=$(count "$TMP/app1.pcap" "udp.port == 5000")
theirs=$(count "$TMP/host1.pcap" "udp.port == 5000")
[ "$ours" = 2 ] || { tshark -r "$TMP/app1.pcap"; fail "capture after exit holds $ours UDP frames, want 2 (request, reply)"; }
[ "$theirs" = 2 ] || fail "tcpdump saw $theirs UDP frames"
ours_all=$(count "$TMP/app1.pcap" "eth.src == $APP_MAC || eth.dst == $APP_MAC")
theirs_all=$(count "$TMP/host1.pcap" "eth.src == $APP_MAC || eth.dst == $APP_MAC")
[ "$ours_all" -ge "$theirs_all" ] || fail "capture holds $ours_all of the app's frames, tcpdump saw $theirs_all"
echo "exit without destroy: $ours UDP frames, $ours_all app frames (tcpdump: $theirs_all)"

# 2. SIGINT right after the reply: the last frames are in the capture and
# the app still dies of SIGINT (exit status 130). Background jobs of a
# script start with SIGINT ignored: env restores the default action.
start_bg "$TMP/app2" env --default-signal=INT GONETIF_PCAP="$TMP/app2.pcap" "$APP" serve-udp 5001 2
app=$LAST_PID
wait_line "$TMP/app2" LISTENING
reply=$(printf 'last frame' | in_ns timeout 10 socat -T 5 - UDP:192.168.5.100:5001) || fail "socat failed"
kill -INT "$app"
wait "$app"
rc=$?
[ "$rc" = 130 ] || { cat "$TMP/app2"; fail "app exit status $rc after SIGINT, want 130 (killed by SIGINT)"; }
n=$(count "$TMP/app2.pcap" "udp.srcport == 5001 && frame contains \"last frame\"")
[ "$n" = 1 ] || { tshark -r "$TMP/app2.pcap"; fail "the reply sent just before SIGINT is not in the capture"; }
echo "SIGINT: the last reply is in the capture, status $rc"

# 3. GONETIF_OUT_LOSS=100: the host's ARP requests cross the TAP and are in
# the capture; nothing the app sent reached the wire, so none is in it.
host_capture "$TMP/host3.pcap"
start_bg "$TMP/app3" env GONETIF_PCAP="$TMP/app3.pcap" GONETIF_OUT_LOSS=100 "$APP" serve-udp 5002 1
app=$LAST_PID
wait_line "$TMP/app3" LISTENING
in_ns ping -c 3 -i 0.3 -W 1 192.168.5.100 >/dev/null 2>&1 && fail "ping answered through 100 % outgoing loss"
kill -TERM "$app"
wait "$app"
rc=$?
[ "$rc" = 143 ] || { cat "$TMP/app3"; fail "app exit status $rc after SIGTERM, want 143"; }
stop_host_capture
from_app=$(count "$TMP/app3.pcap" "eth.src == $APP_MAC")
on_wire=$(count "$TMP/host3.pcap" "eth.src == $APP_MAC")
arp_in=$(count "$TMP/app3.pcap" "arp.opcode == 1 && arp.dst.proto_ipv4 == 192.168.5.100")
[ "$on_wire" = 0 ] || fail "tcpdump saw $on_wire frames from the app through 100 % loss"
[ "$from_app" = 0 ] || { tshark -r "$TMP/app3.pcap"; fail "capture shows $from_app frames from the app that the wire never saw"; }
[ "$arp_in" -ge 1 ] || { tshark -r "$TMP/app3.pcap"; fail "the host's ARP requests are not in the capture"; }
echo "OUT_LOSS=100: $arp_in ARP requests in, 0 frames out (tcpdump: 0)"
pass
