#!/usr/bin/env bash
# The README's first command, as a user runs it: scripts/demo prints the
# app's dialogue and the host side's, and leaves no namespace behind.
source "$(dirname "$0")/../lib.sh"
require_priv
src=${GNT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
before=$(ip netns list | grep -c '^gonetif-demo-')
timeout 300 "$src/scripts/demo" 2 >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "scripts/demo failed"; }
cat "$TMP/out"
[ "$(grep -c 'Received 19 bytes from 192.168.5.1' "$TMP/out")" = 2 ] || fail "app side: expected 2 replies"
[ "$(grep -c '^received 19 bytes from the app$' "$TMP/out")" = 2 ] || fail "host side: expected 2 messages"
[ "$(grep -c '^sent 19 bytes back$' "$TMP/out")" = 2 ] || fail "host side: expected 2 echoes"
[ "$(ip netns list | grep -c '^gonetif-demo-')" = "$before" ] || fail "the demo left its namespace behind"
pass
