#!/usr/bin/env bash
# Three app processes on one virtual LAN through gonetif-switch: TCP and
# UDP between them, byte-exact, with no TAP, no namespace and no root. Run
# as root (CI), everything here runs as nobody with no capabilities, to
# show that none is needed.
source "$(dirname "$0")/../lib.sh"
SWITCH=$GNT_BIN/gonetif-switch
[ -x "$SWITCH" ] || fail "no $SWITCH: build first (scripts/build)"
[ -x "$APP" ] || fail "no $APP: build first (scripts/build)"

set_as_user
make_lan_dir
SOCK=$LAN/switch.sock

run() { "${AS_USER[@]}" "$@"; }

user_bg "$TMP/switch" "$SWITCH" "$SOCK"
SWITCH_PID=$LAST_PID
wait_line "$TMP/switch" "listening on $SOCK"
export GONETIF_LINK=vlan:$SOCK

# A message longer than one TCP segment, of random printable bytes.
MSG=$(head -c 1500 /dev/urandom | base64 -w0 | head -c 1900)
[ ${#MSG} = 1900 ] || fail "could not make the test message"

user_bg "$TMP/server" "$APP" --if lan,10.9.0.1/24 serve-tcp 5000 2
SERVER_PID=$LAST_PID
wait_line "$TMP/server" LISTENING

# Client 1 also stacks the pcap and delay layers, as on a TAP.
GONETIF_PCAP=$LAN/client1.pcap GONETIF_OUT_DELAY=20ms/5ms \
    timeout 30 "${AS_USER[@]}" "$APP" --if lan,10.9.0.2/24 tcp-echo 10.9.0.1 5000 "$MSG" >"$TMP/client1" 2>&1 ||
    { cat "$TMP/client1" "$TMP/server"; fail "client 1: tcp-echo failed"; }
[ "$(sed -n 's/^REPLY //p' "$TMP/client1")" = "$MSG" ] || { cat "$TMP/client1"; fail "client 1: reply differs from the message"; }
grep -q "virtual LAN at $SOCK" "$TMP/client1" || { cat "$TMP/client1"; fail "client 1 did not log its LAN"; }
pcap_size=$(stat -c %s "$LAN/client1.pcap" 2>/dev/null || echo 0)
[ "$pcap_size" -gt 1000 ] || fail "client 1's capture has $pcap_size bytes"

timeout 30 "${AS_USER[@]}" "$APP" --if lan,10.9.0.3/24 tcp-echo 10.9.0.1 5000 "third process $MSG" >"$TMP/client2" 2>&1 ||
    { cat "$TMP/client2" "$TMP/server"; fail "client 2: tcp-echo failed"; }
[ "$(sed -n 's/^REPLY //p' "$TMP/client2")" = "third process $MSG" ] || { cat "$TMP/client2"; fail "client 2: reply differs"; }
wait_line "$TMP/server" "ECHOED 1914"
wait "$SERVER_PID" || { cat "$TMP/server"; fail "TCP server exited with an error"; }

# UDP, the other way round: the server is 10.9.0.2 this time.
user_bg "$TMP/userver" "$APP" --if lan,10.9.0.2/24 serve-udp 6000 1
wait_line "$TMP/userver" LISTENING
timeout 30 "${AS_USER[@]}" "$APP" --if lan,10.9.0.1/24 udp-echo 10.9.0.2 6000 "${MSG:0:1400}" >"$TMP/uclient" 2>&1 ||
    { cat "$TMP/uclient" "$TMP/userver"; fail "udp-echo failed"; }
[ "$(sed -n 's/^REPLY //p' "$TMP/uclient")" = "${MSG:0:1400}" ] || { cat "$TMP/uclient"; fail "UDP reply differs"; }
wait_line "$TMP/userver" "ECHOED 1400"

# A switch that is not there: a clear error, no crash.
GONETIF_LINK=vlan:$LAN/none.sock timeout 10 "${AS_USER[@]}" "$APP" --if lan,10.9.0.9/24 sleep 1 >"$TMP/nolan" 2>&1 &&
    fail "app started without its switch"
grep -q "no switch at $LAN/none.sock" "$TMP/nolan" || { cat "$TMP/nolan"; fail "no clear error for a missing switch"; }

# Peers that exited were removed; SIGTERM stops the switch cleanly.
wait_line "$TMP/switch" "left"
kill -TERM "$SWITCH_PID"
wait "$SWITCH_PID" || { cat "$TMP/switch"; fail "switch exited with an error after SIGTERM"; }
[ ! -e "$SOCK" ] || fail "switch left its socket behind"
grep -q "stopped; forwarded" "$TMP/switch" || { cat "$TMP/switch"; fail "no clean stop"; }
pass
