#!/usr/bin/env bash
# Every bad value of every GONETIF_* setting (from gonetif/config.Table, via
# badvalues.go) makes esp_netif_init() return ESP_ERR_INVALID_ARG with an
# IDF-format line "E (ms) gonetif: NAME=..." and tapio_create() give NULL;
# the same app with good settings starts. The app compiled with
# CONFIG_LOG_COLORS=1 gets the library's lines in colour, the plain one not.
# No privileges needed. Env: GNT_BIN (build dir), GNT_SRC, GNT_GO.
set -uo pipefail
APP=$GNT_BIN/tests/settings_app
APP_COLORS=$GNT_BIN/tests/settings_app_colors
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL settings_bad_values: $*"; exit 1; }

(cd "$GNT_SRC" && "$GNT_GO" run ./tests/settings) >"$TMP/bad" || fail "cannot list bad values"
count=$(wc -l <"$TMP/bad")
[ "$count" -ge 13 ] || fail "only $count bad values listed"

# Good settings: init works (tapio_create may fail: there is no TAP here).
GONETIF_TAP=nosuchtap0 GONETIF_MTU=1400 GONETIF_LOG_LEVEL=warn GONETIF_TAP_NETPOLL=0 \
    "$APP" >"$TMP/good" 2>&1
rc=$?
[ $rc = 0 ] || { cat "$TMP/good"; fail "good settings refused (exit $rc)"; }
grep -q "esp_netif_init: ESP_OK" "$TMP/good" || fail "no ESP_OK with good settings"

n=0
while IFS=$'\t' read -r name value; do
    env "$name=$value" "$APP" >"$TMP/out" 2>&1
    rc=$?
    [ $rc = 3 ] || { cat "$TMP/out"; fail "$name='$value': exit $rc, want 3 (init refused, no handle)"; }
    grep -q "esp_netif_init: ESP_ERR_INVALID_ARG" "$TMP/out" || { cat "$TMP/out"; fail "$name='$value': not ESP_ERR_INVALID_ARG"; }
    lines=$(grep -cE "^E \([0-9]+\) gonetif: $name=\".*\": want " "$TMP/out")
    [ "$lines" = 1 ] || { cat "$TMP/out"; fail "$name='$value': $lines IDF-format E lines naming it, want 1"; }
    if grep -v -E '^(E|W|I|D|V) \([0-9]+\) [^:]+: |^esp_netif_init: |^tapio_create: ' "$TMP/out" | grep -q .; then
        cat "$TMP/out"
        fail "$name='$value': a line not in IDF format"
    fi
    n=$((n + 1))
done <"$TMP/bad"
[ "$n" = "$count" ] || fail "walked $n of $count"

# Rows the C log parses itself (before Go runs) accept what the table
# accepts: each good value starts, and the level takes effect (tapio's
# error line about the missing TAP shows at every level but none).
(cd "$GNT_SRC" && "$GNT_GO" run ./tests/settings -good) >"$TMP/good_values" || fail "cannot list good values"
[ -s "$TMP/good_values" ] || fail "no good values listed"
while IFS=$'\t' read -r name value index; do
    env "$name=$value" GONETIF_TAP=gntnosuch0 "$APP" >"$TMP/out" 2>&1
    grep -q "esp_netif_init: ESP_OK" "$TMP/out" || { cat "$TMP/out"; fail "$name='$value' refused"; }
    if grep -q "$name" "$TMP/out"; then cat "$TMP/out"; fail "$name='$value': reported as bad"; fi
    errors=$(grep -c '^E ' "$TMP/out")
    if [ "$index" = 0 ] && [ "$errors" != 0 ]; then cat "$TMP/out"; fail "$name='$value': lines at level none"; fi
    if [ "$index" != 0 ] && [ "$errors" = 0 ]; then cat "$TMP/out"; fail "$name='$value': no error line at level $index"; fi
done <"$TMP/good_values"

# Colours: the library's E line is red only in the app built with CONFIG_LOG_COLORS.
GONETIF_MTU=abc "$APP_COLORS" >"$TMP/colors" 2>&1
grep -q $'^\033\\[0;31mE ([0-9]*) gonetif: GONETIF_MTU=' "$TMP/colors" ||
    { cat -v "$TMP/colors"; fail "CONFIG_LOG_COLORS app: library line not coloured"; }
GONETIF_MTU=abc "$APP" >"$TMP/plain" 2>&1
if grep -q $'\033' "$TMP/plain"; then cat -v "$TMP/plain"; fail "plain app got colours"; fi
echo "PASS settings_bad_values: $n bad values of $(cut -f1 "$TMP/bad" | sort -u | wc -l) settings refused"
