#!/usr/bin/env bash
# A TAP whose host side is down: the app is told so (a "no carrier"
# warning at the default log level) instead of silence, and its raw writes
# fail instead of vanishing.
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
in_ns ip tuntap add dev tap0 mode tap || fail "cannot create TAP"
in_ns timeout 20 "$GNT_BIN/tests/netif_lifecycle" raw >"$TMP/app" 2>&1
grep -q "TAP tap0: no carrier" "$TMP/app" || { cat "$TMP/app"; fail "no 'no carrier' warning"; }
grep -q "^SENT fails=3$" "$TMP/app" || { cat "$TMP/app"; fail "raw writes to a TAP that is down did not fail"; }
pass
