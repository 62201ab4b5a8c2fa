#!/usr/bin/env bash
# Installs the built gonetif into a throwaway prefix, moves the tree (it must
# be relocatable), and builds and runs a consumer from the installed tree
# three ways: CMake find_package(gonetif), pkg-config, and a plain gcc line.
# Args: BUILD_DIR SOURCE_DIR. No privileges needed.
set -uo pipefail
BUILD=$1
SRC=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL install_consumer: $*"; exit 1; }
CC=${CC:-cc}

cmake --install "$BUILD" --prefix "$TMP/staged" >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; fail "cmake --install"; }
mv "$TMP/staged" "$TMP/prefix"
P=$TMP/prefix
LIB=$(dirname "$(find "$P" -name libgonetif.a | head -1)")
[ -f "$LIB/libgonetif.a" ] || fail "no libgonetif.a installed"
[ -f "$P/include/gonetif/esp_netif.h" ] || fail "headers not under include/gonetif"
[ ! -e "$P/include/sys" ] || fail "shadow headers installed into the system include root"
[ -z "$(find "$P" -name 'libgonetif_go.a')" ] || fail "the Go archive was installed separately"
# One archive: the glue's and the Go side's symbols are both in it.
nm "$LIB/libgonetif.a" >"$TMP/nm" 2>/dev/null
grep -q ' T esp_netif_init$' "$TMP/nm" || fail "libgonetif.a lacks the C glue"
grep -q ' T gonetif_abi_init$' "$TMP/nm" || fail "libgonetif.a lacks the Go archive"
# The consumer sees only the installed tree.
# The same program as cmake_consumer, linked here against the install.
cp "$SRC/tests/cmake_consumer/main.c" "$SRC/tests/install_consumer/CMakeLists.txt" "$TMP/"

run() {
    local how=$1 exe=$2
    out=$("$exe" 2>&1) || { echo "$out"; fail "$how: consumer failed"; }
    echo "$out" | grep -q "socket work" || { echo "$out"; fail "$how: unexpected output"; }
    echo "ok $how"
}

# 1. find_package
cmake -S "$TMP" -B "$TMP/b" -DCMAKE_PREFIX_PATH="$P" >"$TMP/cfg.log" 2>&1 || { cat "$TMP/cfg.log"; fail "find_package: configure"; }
cmake --build "$TMP/b" >"$TMP/bld.log" 2>&1 || { cat "$TMP/bld.log"; fail "find_package: build"; }
run find_package "$TMP/b/consumer"
# A version this one cannot satisfy is refused.
sed 's/find_package(gonetif 0.2 REQUIRED)/find_package(gonetif 99 REQUIRED)/' "$TMP/CMakeLists.txt" >"$TMP/v99.txt"
mkdir -p "$TMP/v99" && cp "$TMP/main.c" "$TMP/v99/" && cp "$TMP/v99.txt" "$TMP/v99/CMakeLists.txt"
if cmake -S "$TMP/v99" -B "$TMP/v99/b" -DCMAKE_PREFIX_PATH="$P" >/dev/null 2>&1; then
    fail "find_package(gonetif 99) accepted version 0.x"
fi

# 2. pkg-config
export PKG_CONFIG_PATH=$LIB/pkgconfig
flags=$(pkg-config --cflags --libs gonetif) || fail "pkg-config gonetif"
case "$flags" in *"$P/"*) ;; *) fail "pkg-config paths do not point into the moved prefix: $flags" ;; esac
want_version=$(sed -n 's/^set(GONETIF_VERSION \([^)]*\))/\1/p' "$SRC/CMakeLists.txt")
[ "$(pkg-config --modversion gonetif)" = "$want_version" ] || fail "gonetif.pc version $(pkg-config --modversion gonetif), want $want_version"
# shellcheck disable=SC2086
$CC -o "$TMP/consumer_pc" "$TMP/main.c" $flags || fail "pkg-config: build"
run pkg-config "$TMP/consumer_pc"

# 3. plain gcc, the documented link line
$CC -o "$TMP/consumer_gcc" "$TMP/main.c" -I"$P/include/gonetif" "$LIB/libgonetif.a" -lpthread -ldl || fail "gcc: build"
run gcc "$TMP/consumer_gcc"
echo "PASS install_consumer"
