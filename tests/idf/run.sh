#!/usr/bin/env bash
# IDF's own linux-target examples, unchanged, on gonetif: built with IDF's
# CMake through the documented interface (one EXTRA_COMPONENT_DIRS line, the
# lines of idf/sdkconfig.defaults), then run over a TAP in a fresh network
# namespace against real peers. Checks that the peer saw the app's address.
#
#   tests/idf/run.sh <v5.5|v6.0|master> [app ...]     apps: tcp_client udp_client
#
# IDF comes from the snapshot beside the repository (../shared/idf, set up
# into a work folder under the build dir) or, when that is absent, from the
# caller's IDF_PATH. The Go archive of the standalone build is reused
# (GNT_GO_ARCHIVE), so it is built once for all versions and apps.
source "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VER=${1:?usage: run.sh <v5.5|v6.0|master> [app ...]}
shift
APPS=("$@")
[ ${#APPS[@]} -gt 0 ] || APPS=(tcp_client udp_client)
TEST_NAME="idf_$VER"

skip_or_fail() {
    [ "${GONETIF_REQUIRE_PRIV:-}" = 1 ] && fail "$* (GONETIF_REQUIRE_PRIV=1)"
    echo "SKIP $TEST_NAME: $*"
    exit 77
}

require_priv python3
SNAP=${GNT_IDF_SNAPSHOT:-$ROOT/../shared/idf}
WORK=$GNT_BIN/idf-work/$VER
if [ -x "$SNAP/setup.sh" ]; then
    mkdir -p "$WORK"
    env_out=$("$SNAP/setup.sh" "$VER" "$WORK/idf" 2>"$WORK/setup.log") ||
        { cat "$WORK/setup.log"; fail "IDF $VER setup failed"; }
    eval "$env_out"
elif [ -n "${IDF_PATH:-}" ] && [ -f "$IDF_PATH/tools/cmake/project.cmake" ]; then
    mkdir -p "$WORK"
    : "${IDF_CMAKE_ARGS:=-G Ninja -DIDF_TARGET=linux}"
else
    skip_or_fail "no ESP-IDF: neither $SNAP/setup.sh nor IDF_PATH"
fi
command -v ninja >/dev/null || skip_or_fail "ninja missing"
ARCHIVE=${GNT_GO_ARCHIVE:-$GNT_BIN/libgonetif_go.a}
[ -f "$ARCHIVE" ] || fail "no Go archive at $ARCHIVE (run scripts/build first)"

# prepare APP SRC_SUBDIR EXTRA_SDKCONFIG: a copy of IDF's example with the
# user's documented change, built; prints the build seconds to $TMP/times.
prepare() {
    local app=$1 src=$IDF_PATH/examples/$2 extra=$3 dir=$WORK/$1
    [ -d "$src" ] || fail "$src missing"
    rm -rf "$dir" && cp -r "$src" "$dir" || fail "cannot copy $src"
    sed -i "0,/^include(\$ENV{IDF_PATH}\/tools\/cmake\/project.cmake)/s##list(APPEND EXTRA_COMPONENT_DIRS \"$ROOT/idf\")\n&#" \
        "$dir/CMakeLists.txt"
    grep -q "EXTRA_COMPONENT_DIRS \"$ROOT/idf\"" "$dir/CMakeLists.txt" || fail "$app: CMakeLists.txt not patched"
    local f
    for f in sdkconfig.defaults sdkconfig.defaults.linux; do
        [ "$f" = sdkconfig.defaults ] || [ -f "$dir/$f" ] || continue
        { echo; cat "$ROOT/idf/sdkconfig.defaults"; printf '%b' "$extra"; } >>"$dir/$f"
    done
    local t0=$SECONDS
    # shellcheck disable=SC2086 # IDF_CMAKE_ARGS is a list of arguments
    (cd "$dir" && cmake -S . -B build $IDF_CMAKE_ARGS -DGONETIF_GO_ARCHIVE="$ARCHIVE" >"$dir/configure.log" 2>&1) ||
        { tail -40 "$dir/configure.log"; fail "$app: IDF configure failed"; }
    (cd "$dir" && cmake --build build -j2 >"$dir/build.log" 2>&1) ||
        { grep -E "error|undefined" "$dir/build.log" | head -30; fail "$app: IDF build failed"; }
    [ -x "$dir/build/$app.elf" ] || fail "$app: no $app.elf"
    echo "$VER $app build $((SECONDS - t0)) s" | tee -a "$TMP/times"
    ELF=$dir/build/$app.elf
}

STATIC="CONFIG_EXAMPLE_IPV4=y\nCONFIG_EXAMPLE_IPV4_ADDR=\"192.168.5.1\"\nCONFIG_EXAMPLE_PORT=3333\n"
STATIC+="CONFIG_EXAMPLE_CONNECT_WAIT_FOR_IP=n\nCONFIG_EXAMPLE_CONNECT_IPV6=n\n"
STATIC+="CONFIG_EXAMPLE_CONNECT_TAPIF_IP_ADDR=\"192.168.5.100\"\n"

# run_bounded SECONDS OUT: the app in the namespace; it loops forever, so a
# bounded run ending in timeout's 124 is the normal end.
run_bounded() {
    in_ns timeout "$1" "$ELF" >"$2" 2>&1 </dev/null
    local rc=$?
    [ $rc = 124 ] || [ $rc = 0 ] || { tail -30 "$2"; fail "app exited with $rc"; }
}

test_tcp_client() {
    prepare tcp_client protocols/sockets/tcp_client "$STATIC"
    start_bg "$TMP/tcp_peer" socat -d -d TCP-LISTEN:3333,fork,reuseaddr EXEC:cat
    wait_listen_tcp 3333
    run_bounded 4 "$TMP/tcp_out"
    local n
    n=$(grep -c 'Received 19 bytes from 192.168.5.1' "$TMP/tcp_out")
    [ "$n" -ge 3 ] || { tail -20 "$TMP/tcp_out"; fail "tcp_client: $n echoes"; }
    grep -q "Message from ESP32" "$TMP/tcp_out" || fail "tcp_client: echo text missing"
    grep -q "accepting connection from AF=2 192.168.5.100:" "$TMP/tcp_peer" ||
        { cat "$TMP/tcp_peer"; fail "tcp_client: the peer did not see 192.168.5.100"; }
    echo "$VER tcp_client ok: $n echoes" | tee -a "$TMP/times"
}

test_udp_client() {
    prepare udp_client protocols/sockets/udp_client "$STATIC"
    start_bg "$TMP/udp_peer" python3 -u -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.168.5.1", 3333))
s.settimeout(30)
while True:
    data, peer = s.recvfrom(2048)
    print("from", peer[0], len(data), flush=True)
    s.sendto(data, peer)'
    wait_listen_udp 3333
    run_bounded 5 "$TMP/udp_out"
    local n
    n=$(grep -c 'Received 19 bytes from 192.168.5.1' "$TMP/udp_out")
    [ "$n" -ge 2 ] || { tail -20 "$TMP/udp_out"; fail "udp_client: $n echoes"; }
    grep -q "^from 192.168.5.100 19$" "$TMP/udp_peer" ||
        { cat "$TMP/udp_peer"; fail "udp_client: the peer did not see 192.168.5.100"; }
    echo "$VER udp_client ok: $n echoes" | tee -a "$TMP/times"
}

for app in "${APPS[@]}"; do
    declare -F "test_$app" >/dev/null || fail "unknown app $app"
    make_ns
    make_tap tap0 192.168.5.1/24
    "test_$app"
    cleanup_ns() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; PIDS=(); ip netns del "$NS"; NS=""; }
    cleanup_ns
done
cat "$TMP/times"
pass
