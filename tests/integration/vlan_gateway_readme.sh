#!/usr/bin/env bash
# The README's commands for the gateway on a virtual LAN, extracted from
# README.md and run as they are (paths moved into a scratch folder, the
# host ports swapped for free ones), as an unprivileged user.
source "$(dirname "$0")/../lib.sh"
require_tools socat curl python3
[ -x "$GNT_BIN/gonetif-switch" ] || fail "no $GNT_BIN/gonetif-switch: build first (scripts/build)"
make_lan_dir
svc=$(free_port)
fwd=$(free_port)
{
    echo 'trap '\''kill $(jobs -p) 2>/dev/null'\'' EXIT'
    readme_block virtual-lan-gateway | grep -v '^scripts/build$' |
        sed "s|/tmp/|$LAN/|g; s|build/|$GNT_BIN/|g; s|7000|$svc|g; s|8080|$fwd|g"
} >"$LAN/block.sh"
grep -q "gonetif-switch -gateway" "$LAN/block.sh" || { cat "$LAN/block.sh"; fail "README block not found"; }

set_as_user
timeout -k 5 60 "${AS_USER[@]}" env GONETIF_TUN_DEVICE=/nonexistent/tun bash "$LAN/block.sh" >"$TMP/out" 2>&1 ||
    { cat "$TMP/out"; fail "the README commands failed"; }
grep -q "got IP event for tap: 10.0.2.16" "$TMP/out" || { cat "$TMP/out"; fail "c_tcp_client: no lease 10.0.2.16"; }
[ "$(grep -c 'Received 19 bytes from 10.0.2.2' "$TMP/out")" = 2 ] || { cat "$TMP/out"; fail "c_tcp_client: expected 2 replies from the host"; }
grep -q "^REPLY HTTP/1.1 200" "$TMP/out" || { cat "$TMP/out"; fail "no answer from device to device"; }
[ "$(grep -c 'hello from gnt_app' "$TMP/out")" = 2 ] || { cat "$TMP/out"; fail "expected the page twice (LAN peer, curl through the forward)"; }
wait_line "$LAN/web.log" "REQUEST GET / HTTP/1.1"
wait_for 10 grep -q "stopped; forwarded" "$LAN/switch.log" || { cat "$LAN/switch.log"; fail "the switch did not stop on kill"; }
[ ! -e "$LAN/lan.sock" ] || fail "the switch left its socket behind"
pass
