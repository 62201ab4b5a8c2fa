#!/usr/bin/env bash
# esp_netif_destroy with a silent peer: it waits for that interface's closed
# connections only, and no longer than GONETIF_EXIT_LINGER_MS (default 2 s;
# 0: not at all). The peer goes silent by losing its address: the app's
# segments and ARP requests then go unanswered.
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
make_tap tap0 192.168.5.1/24
make_tap tap1 192.168.6.1/24

# run LINGER: prints "other silent total" milliseconds.
run() {
    in_ns ip addr replace 192.168.6.1/24 dev tap1
    start_bg "$TMP/sink" socat -u TCP-LISTEN:7100,reuseaddr OPEN:/dev/null
    wait_listen_tcp 7100
    rm -f "$TMP/go"
    mkfifo "$TMP/go"
    local env=()
    [ "$1" != default ] && env=(GONETIF_EXIT_LINGER_MS="$1")
    local start=$(date +%s%N)
    ip netns exec "$NS" env "${env[@]}" timeout 30 "$GNT_BIN/tests/netif_lifecycle" linger 7100 <"$TMP/go" >"$TMP/app" 2>&1 &
    local app=$!
    PIDS+=($app)
    exec 7>"$TMP/go"
    wait_line "$TMP/app" CONNECTED 15
    in_ns ip addr del 192.168.6.1/24 dev tap1
    kill "$LAST_PID" 2>/dev/null
    echo GO >&7
    exec 7>&-
    wait "$app" || { cat "$TMP/app"; fail "app failed (linger $1)"; }
    local total=$((($(date +%s%N) - start) / 1000000))
    local other silent
    other=$(awk '/^DESTROY_OTHER_MS/ {print $2}' "$TMP/app")
    silent=$(awk '/^DESTROY_SILENT_MS/ {print $2}' "$TMP/app")
    [ -n "$other" ] && [ -n "$silent" ] || { cat "$TMP/app"; fail "no timings (linger $1)"; }
    echo "linger $1: destroy other ${other} ms, silent ${silent} ms, process ${total} ms"
    RES=($other $silent $total)
}

run default
[ "${RES[0]}" -lt 1000 ] || { grep -v "^[IWE] (" "$TMP/app"; false; } || fail "destroying the other interface waited ${RES[0]} ms for a connection not on it"
[ "${RES[1]}" -ge 1800 ] && [ "${RES[1]}" -lt 3500 ] || fail "silent peer, default linger: ${RES[1]} ms, want about 2000"
# At exit nothing is left to wait for: that interface is gone.
[ $((RES[2] - RES[1])) -lt 1500 ] || fail "the exit waited again for a destroyed interface's connection (${RES[2]} ms in all)"
run 0
[ "${RES[1]}" -lt 500 ] || fail "GONETIF_EXIT_LINGER_MS=0: destroy took ${RES[1]} ms"
[ "${RES[2]}" -lt 4000 ] || fail "GONETIF_EXIT_LINGER_MS=0: the process took ${RES[2]} ms"
run 700
[ "${RES[1]}" -ge 600 ] && [ "${RES[1]}" -lt 1700 ] || fail "GONETIF_EXIT_LINGER_MS=700: destroy took ${RES[1]} ms"
pass
