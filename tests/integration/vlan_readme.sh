#!/usr/bin/env bash
# The README's virtual LAN commands, extracted from README.md and run as
# they are (paths moved into a scratch folder), as an unprivileged user:
# a switch, a server and four clients, with no TAP and no root.
source "$(dirname "$0")/../lib.sh"
[ -x "$GNT_BIN/gonetif-switch" ] || fail "no $GNT_BIN/gonetif-switch: build first (scripts/build)"
make_lan_dir
{
    # The block's background jobs end with it, whatever happens.
    echo 'trap '\''kill $(jobs -p) 2>/dev/null'\'' EXIT'
    readme_block virtual-lan | grep -v '^scripts/build$' | sed "s|/tmp/|$LAN/|g; s|build/|$GNT_BIN/|g"
} >"$LAN/block.sh"
grep -q "gonetif-switch $LAN/lan.sock" "$LAN/block.sh" || { cat "$LAN/block.sh"; fail "README block not found"; }

set_as_user
timeout -k 5 60 "${AS_USER[@]}" bash "$LAN/block.sh" >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "the README commands failed"; }
for i in 2 3 4; do
    grep -q "^REPLY hello from $i$" "$TMP/out" || { cat "$TMP/out"; fail "no echo for client $i"; }
done
[ "$(grep -c 'Received 19 bytes from 10.9.0.1' "$TMP/out")" = 3 ] || { cat "$TMP/out"; fail "c_tcp_client: expected 3 replies"; }
wait_for 10 grep -q "stopped; forwarded" "$LAN/switch.log" || { cat "$LAN/switch.log"; fail "the switch did not stop on kill"; }
[ ! -e "$LAN/lan.sock" ] || fail "the switch left its socket behind"
pass
