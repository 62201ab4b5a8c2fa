#!/usr/bin/env bash
# tapio_output() and esp_netif_transmit() on a tapio_create() interface put
# the app's raw frames on the TAP as they are: tcpdump on the host side sees
# all three (before attach, after attach, through esp_netif_transmit); bad
# sizes and a handle whose interface was destroyed are refused.
source "$(dirname "$0")/../lib.sh"
require_priv tcpdump
make_ns
make_tap tap0 192.168.5.1/24
ip netns exec "$NS" tcpdump -i tap0 -nn -U --immediate-mode -w "$TMP/raw.pcap" 'ether proto 0x88b5' 2>"$TMP/tcpdump.log" &
PIDS+=($!)
wait_for 10 grep -q "listening on" "$TMP/tcpdump.log" || fail "tcpdump did not start"
in_ns timeout 30 "$GNT_BIN/tests/netif_lifecycle" raw >"$TMP/app" 2>&1 || { cat "$TMP/app"; fail "app failed"; }
grep -q "^SENT fails=0$" "$TMP/app" || { cat "$TMP/app"; fail "app: a call answered wrongly"; }
sleep 0.3
kill -INT "${PIDS[-1]}" 2>/dev/null
wait "${PIDS[-1]}" 2>/dev/null
seen=$(tcpdump -nn -r "$TMP/raw.pcap" -A 2>/dev/null)
for tag in raw-before-attach raw-after-attach raw-via-transmit; do
    grep -q "$tag" <<<"$seen" || { echo "$seen"; cat "$TMP/app"; fail "the host did not see the frame '$tag'"; }
done
n=$(tcpdump -e -nn -r "$TMP/raw.pcap" 2>/dev/null | grep -c '^.*02:12:34:56:78:ab > ff:ff:ff:ff:ff:ff, ethertype Unknown (0x88b5), length 60')
[ "$n" = 3 ] || { tcpdump -e -nn -r "$TMP/raw.pcap"; fail "$n frames of 60 bytes from the app, want 3"; }
pass
