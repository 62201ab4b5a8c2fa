#!/usr/bin/env bash
# The README's no-root quick start, as an ordinary user with no
# capabilities: scripts/demo --user (on the build already made) prints the
# app's DHCP lease and dialogue and the host side's echo.
source "$(dirname "$0")/../lib.sh"
require_tools socat ss
src=${GNT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
[ "$GNT_BIN" = "$src/build" ] || { echo "SKIP $TEST_NAME: the demo uses $src/build"; exit 77; }
unprivileged timeout 60 "$src/scripts/demo" --user --no-build 2 >"$TMP/out" 2>&1 ||
    { cat "$TMP/out"; fail "scripts/demo --user failed"; }
cat "$TMP/out"
grep -q "got IP event for tap: 10.0.2.15" "$TMP/out" || fail "no DHCP lease"
[ "$(grep -c 'Received 19 bytes from 10.0.2.2' "$TMP/out")" = 2 ] || fail "app side: expected 2 replies"
[ "$(grep -c '^received 19 bytes from the app$' "$TMP/out")" = 2 ] || fail "host side: expected 2 messages"
[ "$(grep -c '^sent 19 bytes back$' "$TMP/out")" = 2 ] || fail "host side: expected 2 echoes"
pass
