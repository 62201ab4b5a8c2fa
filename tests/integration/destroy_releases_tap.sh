#!/usr/bin/env bash
# esp_netif_destroy() returns only once the TAP is released: opening the
# same TAP right after succeeds every time (20 of 20).
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
make_tap tap0 192.168.5.1/24
in_ns timeout 60 "$GNT_BIN/tests/netif_lifecycle" reopen 20 >"$TMP/app" 2>&1
grep -q "^REOPENED 20 of 20$" "$TMP/app" || { grep -v "^[IWE] (" "$TMP/app" | tail -25; fail "the TAP stayed busy after destroy"; }
pass
