#!/usr/bin/env bash
# IDF's own linux-target examples, unchanged, on gonetif: built with IDF's
# CMake through the documented interface (one EXTRA_COMPONENT_DIRS line, the
# lines of idf/sdkconfig.defaults), then run over a TAP in a fresh network
# namespace against real peers. Checks that the peer saw the app's address.
#
#   tests/idf/run.sh <v5.5|v6.0|master> [app ...]
#   apps: tcp_client kconfig udp_client app bad_input esp_http_client http_server (the last two v5.5 only)
#
# app is gonetif's own IDF app (tests/idf/app): DHCP and DNS from dnsmasq,
# IPv6 SLAAC, UDP both ways, select over socket + pipe, a TCP server for a
# host client, and the tick share of a low-priority task while a
# high-priority one is blocked (>= 90 %). bad_input reuses the builds of
# tcp_client and app: a missing TAP, a TAP owned by another user and DHCP
# with no server each end in an E line and an esp_err_t, in bounded time.
#
# IDF comes from the snapshot beside the repository (shared/idf next to the
# repository's folder, set up into a work folder under the build dir) or, when that is absent, from the
# caller's IDF_PATH. The Go archive of the standalone build is reused
# (GNT_GO_ARCHIVE), so it is built once for all versions and apps.
source "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VER=${1:?usage: run.sh <v5.5|v6.0|master> [app ...]}
shift
APPS=("$@")
[ ${#APPS[@]} -gt 0 ] || APPS=(tcp_client kconfig udp_client app bad_input esp_http_client http_server)
TEST_NAME="idf_$VER"

skip_or_fail() {
    [ "${GONETIF_REQUIRE_PRIV:-}" = 1 ] && fail "$* (GONETIF_REQUIRE_PRIV=1)"
    echo "SKIP $TEST_NAME: $*"
    exit 77
}

require_priv python3 curl tcpdump
SNAP=${GNT_IDF_SNAPSHOT:-$(dirname "$ROOT")/shared/idf}
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

# check_packed_relocs APP: where the linker packs relative relocations
# (as the component asks), $ELF has DT_RELR and few RELA entries left.
check_packed_relocs() {
    local cc
    cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$WORK/$1/build/CMakeCache.txt")
    echo 'int main(void) { return 0; }' | "${cc:-cc}" -x c - -Wl,-z,pack-relative-relocs -o "$TMP/relr_probe" 2>/dev/null || {
        echo "$VER $1: the linker has no -z pack-relative-relocs; RELA kept"
        return
    }
    readelf -d "$ELF" | grep -q "(RELR)" || fail "$1: no DT_RELR in $ELF (-z pack-relative-relocs missing)"
    local rela
    rela=$(readelf -r "$ELF" | awk '/^Relocation section .\.rela\.dyn/ {print $(NF-1)}')
    [ "${rela:-0}" -lt 5000 ] || fail "$1: $rela RELA relocations left in $ELF, want < 5000 when packed"
    echo "$VER $1: DT_RELR, ${rela:-0} RELA relocations"
}

# prepare APP SRC_SUBDIR EXTRA_SDKCONFIG: a copy of IDF's example with the
# user's documented change, built; prints the build seconds to $TMP/times.
prepare() {
    local app=$1 src=$IDF_PATH/examples/$2 extra=$3 dir=$WORK/$1
    [ "$app" = gnt_idf_app ] && src=$ROOT/tests/idf/app
    [ -d "$src" ] || fail "$src missing"
    rm -rf "$dir" && cp -r "$src" "$dir" || fail "cannot copy $src"
    [ "$app" = gnt_idf_app ] || sed -i "0,/^include(\$ENV{IDF_PATH}\/tools\/cmake\/project.cmake)/s##list(APPEND EXTRA_COMPONENT_DIRS \"$ROOT/idf\")\n&#" \
        "$dir/CMakeLists.txt"
    [ "$app" = gnt_idf_app ] || grep -q "EXTRA_COMPONENT_DIRS \"$ROOT/idf\"" "$dir/CMakeLists.txt" ||
        fail "$app: CMakeLists.txt not patched"
    local f
    for f in sdkconfig.defaults sdkconfig.defaults.linux; do
        [ "$f" = sdkconfig.defaults ] || [ -f "$dir/$f" ] || continue
        { echo; cat "$ROOT/idf/sdkconfig.defaults"; printf '%b' "$extra"; } >>"$dir/$f"
    done
    local t0=$SECONDS
    # shellcheck disable=SC2086 # IDF_CMAKE_ARGS is a list of arguments
    (cd "$dir" && cmake -S . -B build $IDF_CMAKE_ARGS -DGONETIF_GO_ARCHIVE="$ARCHIVE" -DGONETIF_IDF_DIR="$ROOT/idf" >"$dir/configure.log" 2>&1) ||
        { tail -40 "$dir/configure.log"; fail "$app: IDF configure failed"; }
    (cd "$dir" && cmake --build build -j2 >"$dir/build.log" 2>&1) ||
        { grep -E "error|undefined" "$dir/build.log" | head -30; fail "$app: IDF build failed"; }
    ELF=$(ls "$dir"/build/*.elf 2>/dev/null | head -1)
    [ -x "$ELF" ] || fail "$app: no .elf in $dir/build"
    echo "$VER $app build $((SECONDS - t0)) s" | tee -a "$TMP/times"
    check_packed_relocs "$app"
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
    # The Kconfig defaults, for test_kconfig to differ from: offloads on
    # (the TAP was attached with a vnet header), gonetif's level info.
    tap_has_vnet_hdr tap0 || fail "tcp_client: CONFIG_GONETIF_TAP_OFFLOAD=y but tap0 has no vnet header"
    grep -q "^D (.*gonetif:" "$TMP/tcp_out" && fail "tcp_client: D lines at the default log level info"
    echo "$VER tcp_client ok: $n echoes" | tee -a "$TMP/times"
    # Bad configuration: a clear E line and an esp_err_t (the example's
    # ESP_ERROR_CHECK then aborts), never a hang.
    in_ns env GONETIF_LOG_LEVEL=loud timeout 20 "$ELF" >"$TMP/bad_out" 2>&1 </dev/null
    local rc=$?
    [ $rc != 124 ] && [ $rc != 0 ] || { tail "$TMP/bad_out"; fail "tcp_client: bad GONETIF_LOG_LEVEL gave exit $rc"; }
    grep -q "^E (.*bad gonetif log level 'loud'" "$TMP/bad_out" || { tail "$TMP/bad_out"; fail "tcp_client: no E line for a bad setting"; }
    grep -q "ESP_ERR_INVALID_ARG" "$TMP/bad_out" || { tail "$TMP/bad_out"; fail "tcp_client: no ESP_ERR_INVALID_ARG"; }
}

# tap_has_vnet_hdr TAP: the TAP's last attach asked for IFF_VNET_HDR
# (0x4000), i.e. gonetif ran it with offloads.
tap_has_vnet_hdr() {
    local flags
    flags=$(in_ns cat "/sys/class/net/$1/tun_flags") || fail "no tun_flags for $1"
    (( flags & 0x4000 ))
}

# Every option of esp_netif_stack's Kconfig changed in one build of the
# unchanged tcp_client, each seen taking effect from outside the app: the
# only TAP is the configured one, the peer sees the MAC (ip neigh, frames)
# and the MTU (the SYN's MSS), the TAP runs without a vnet header, the
# pcap file is written and tshark reads it, D lines appear, and the wait
# spin is the configured one (then GONETIF_WAIT_SPIN_US overrides it).
test_kconfig() {
    local mac=02:4b:43:46:47:01 tap=gntk0 mss_want=1240
    local kconfig="CONFIG_GONETIF_TAP_NAME=\"$tap\"\nCONFIG_GONETIF_MAC=\"$mac\"\nCONFIG_GONETIF_MTU=1280\n"
    kconfig+="CONFIG_GONETIF_TAP_OFFLOAD=n\nCONFIG_GONETIF_PCAP_FILE=\"$TMP/kconfig_%d.pcap\"\n"
    kconfig+="CONFIG_GONETIF_LOG_LEVEL=\"debug\"\nCONFIG_GONETIF_WAIT_SPIN_US=1234\n"
    prepare tcp_client_kconfig protocols/sockets/tcp_client "$STATIC$kconfig"
    grep -q "^CONFIG_GONETIF_MTU=1280$" "$WORK/tcp_client_kconfig/sdkconfig" || fail "kconfig: the fragment did not reach sdkconfig"
    in_ns ip link del tap0
    make_tap "$tap" 192.168.5.1/24
    start_bg "$TMP/tcp_peer" socat -d -d TCP-LISTEN:3333,fork,reuseaddr EXEC:cat
    wait_listen_tcp 3333
    start_bg "$TMP/wire_dump" tcpdump -nn -U -i "$tap" -w "$TMP/wire.pcap" tcp port 3333
    local dump_pid=$LAST_PID
    wait_line "$TMP/wire_dump" "listening on" 10
    start_bg "$TMP/k_out" timeout 4 "$ELF"
    local app_pid=$LAST_PID
    wait_line "$TMP/k_out" "Received 19 bytes from 192.168.5.1" 10
    # While the app runs: the kernel drops the TAP's neighbours when its
    # carrier goes with the app.
    local neigh
    neigh=$(in_ns ip neigh show 192.168.5.100 dev "$tap")
    wait "$app_pid"
    kill "$dump_pid" 2>/dev/null
    wait "$dump_pid" 2>/dev/null
    local n
    n=$(grep -c 'Received 19 bytes from 192.168.5.1' "$TMP/k_out")
    [ "$n" -ge 3 ] || { tail -20 "$TMP/k_out"; fail "kconfig: $n echoes over $tap"; }
    grep -q "lladdr $mac" <<<"$neigh" || fail "kconfig: the peer sees 192.168.5.100 as '$neigh', not at CONFIG_GONETIF_MAC $mac"
    local syn
    syn=$(tshark -r "$TMP/wire.pcap" -Y "ip.src == 192.168.5.100 && tcp.flags.syn == 1" -T fields -e eth.src -e tcp.options.mss_val 2>/dev/null | head -1)
    [ "$syn" = "$mac	$mss_want" ] || fail "kconfig: the peer saw the app's SYN as '$syn', want '$mac	$mss_want' (MAC, MSS of MTU 1280)"
    tap_has_vnet_hdr "$tap" && fail "kconfig: CONFIG_GONETIF_TAP_OFFLOAD=n but $tap has a vnet header"
    local frames
    frames=$(tshark -r "$TMP/kconfig_0.pcap" -Y "eth.src == $mac && tcp.dstport == 3333" 2>/dev/null | wc -l)
    [ "$frames" -ge 4 ] || { ls -l "$TMP"/kconfig_*; fail "kconfig: CONFIG_GONETIF_PCAP_FILE has $frames frames from the app to the peer"; }
    grep -q "^D (.*gonetif: a blocked task waits 1234 us natively" "$TMP/k_out" ||
        { grep "^[DI] (" "$TMP/k_out" | head; fail "kconfig: no D line with CONFIG_GONETIF_WAIT_SPIN_US=1234"; }
    in_ns env GONETIF_WAIT_SPIN_US=77 timeout 2 "$ELF" >"$TMP/k_env" 2>&1 </dev/null
    grep -q "^D (.*gonetif: a blocked task waits 77 us natively" "$TMP/k_env" ||
        { head "$TMP/k_env"; fail "kconfig: GONETIF_WAIT_SPIN_US=77 did not override the Kconfig value"; }
    echo "$VER kconfig ok: $n echoes over $tap, MAC $mac, MSS $mss_want, no vnet header, $frames frames in the pcap, D lines, spin 1234 us" | tee -a "$TMP/times"
}

test_udp_client() {
    prepare udp_client protocols/sockets/udp_client "$STATIC"
    udp_peer "$TMP/udp_peer" 192.168.5.1 3333 echo
    run_bounded 5 "$TMP/udp_out"
    local n
    n=$(grep -c 'Received 19 bytes from 192.168.5.1' "$TMP/udp_out")
    [ "$n" -ge 2 ] || { tail -20 "$TMP/udp_out"; fail "udp_client: $n echoes"; }
    grep -q "^from 192.168.5.100 19 " "$TMP/udp_peer" ||
        { cat "$TMP/udp_peer"; fail "udp_client: the peer did not see 192.168.5.100"; }
    echo "$VER udp_client ok: $n echoes" | tee -a "$TMP/times"
}

test_esp_http_client() {
    [ "$VER" = v5.5 ] || { echo "esp_http_client: v5.5 only (v6.0/master need Mbed TLS 4.1)"; return 0; }
    prepare esp_http_client protocols/esp_http_client "${STATIC}CONFIG_EXAMPLE_HTTP_ENDPOINT=\"192.168.5.1\"\n"
    start_bg "$TMP/http_peer" python3 -u "$ROOT/tests/idf/http_peer.py" 192.168.5.1 80
    wait_listen_tcp 80
    # HTTPS requests fail (no TLS peer); the example goes on and finishes.
    in_ns timeout 60 "$ELF" >"$TMP/http_out" 2>&1 </dev/null &
    local pid=$!
    PIDS+=($pid)
    wait_line "$TMP/http_out" "Finish http example" 60 || { grep -v "^D " "$TMP/http_out" | tail -40; cat "$TMP/http_peer"; fail "esp_http_client did not finish"; }
    local m
    for m in GET POST PUT PATCH DELETE HEAD; do
        grep -q "HTTP $m Status = 200" "$TMP/http_out" || { grep -E "Status|error|E \(" "$TMP/http_out" | head -20; fail "esp_http_client: no $m 200"; }
        grep -q "^request 192.168.5.100 $m " "$TMP/http_peer" || fail "esp_http_client: the peer saw no $m from 192.168.5.100"
    done
    echo "$VER esp_http_client ok: $(grep -c '^request 192.168.5.100' "$TMP/http_peer") requests from 192.168.5.100" | tee -a "$TMP/times"
}

test_app() {
    prepare gnt_idf_app "" ""
    cat >"$TMP/dnsmasq.conf" <<CONF
interface=tap0
bind-interfaces
no-resolv
no-hosts
dhcp-range=192.168.5.50,192.168.5.50,255.255.255.0,1h
dhcp-option=option:router,192.168.5.1
dhcp-option=option:dns-server,192.168.5.1
address=/peer.gonetif.test/192.168.5.1
enable-ra
dhcp-range=fd00:5::,ra-only,64,1h
log-dhcp
log-queries
CONF
    in_ns ip addr add fd00:5::1/64 dev tap0
    start_bg "$TMP/dnsmasq" dnsmasq -k -C "$TMP/dnsmasq.conf" --pid-file="$TMP/dnsmasq.pid" --log-facility=-
    udp_peer "$TMP/udp_peer" 192.168.5.1 3333 echo
    wait_listen_udp 67
    start_bg "$TMP/app_out" timeout 90 "$ELF"
    local app_pid=$LAST_PID
    wait_for 60 grep -q "RESULT tcp_listening" "$TMP/app_out" ||
        { cat "$TMP/app_out"; dump_threads "$app_pid"; fail "app: no 'RESULT tcp_listening' within 60 s"; }
    in_ns python3 - >"$TMP/tcp_client" 2>&1 <<'PY' || { cat "$TMP/tcp_client"; fail "host TCP client"; }
import os, socket
data = os.urandom(1 << 20)
s = socket.create_connection(("192.168.5.50", 3335), timeout=10)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
back = bytearray()
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    back += chunk
print("host client: sent", len(data), "echo", "equal" if bytes(back) == data else "DIFFERS", len(back))
PY
    wait_line "$TMP/app_out" "^APP \(DONE\|FAIL\)" 60
    wait "$app_pid"
    local rc=$?
    grep -E "^(RESULT|APP)" "$TMP/app_out"
    cat "$TMP/tcp_client"
    [ $rc = 0 ] && grep -q "^APP DONE" "$TMP/app_out" || { tail -30 "$TMP/app_out"; fail "app: exit $rc"; }
    grep -q "echo equal 1048576" "$TMP/tcp_client" || fail "app: TCP echo differs"
    grep -q "^RESULT tcp_server peer 192.168.5.1 echoed 1048576 bytes" "$TMP/app_out" || fail "app: TCP server"
    grep -q "^RESULT dhcp 192.168.5.50 gw 192.168.5.1" "$TMP/app_out" || fail "app: DHCP address"
    grep -q "^RESULT got_ip_events 1" "$TMP/app_out" || fail "app: GOT_IP event"
    # IDF master hands IP events to the event task from its tick hook: idle,
    # it hardly wakes (it woke every tick when it polled). v5.5/v6.0 poll.
    local wakeups
    wakeups=$(sed -n 's/^RESULT event_task_idle \([0-9]*\) wake-ups.*/\1/p' "$TMP/app_out")
    [ -n "$wakeups" ] || fail "app: no event_task_idle line"
    [ "$VER" != master ] || [ "$wakeups" -le 5 ] || fail "app: the IP event task woke $wakeups times in 1 s idle, want <= 5"
    grep -q "DHCPACK(tap0) 192.168.5.50" "$TMP/dnsmasq" || { cat "$TMP/dnsmasq"; fail "app: dnsmasq gave no lease"; }
    grep -q "^RESULT dns peer.gonetif.test 192.168.5.1" "$TMP/app_out" || fail "app: getaddrinfo"
    grep -q "query\[A\] peer.gonetif.test from 192.168.5.50" "$TMP/dnsmasq" || fail "app: DNS query not from the app"
    grep -q "^RESULT ip6_linklocal fe80:" "$TMP/app_out" || fail "app: IPv6 link-local"
    grep -q "^RESULT ip6_global fd00:0005:" "$TMP/app_out" || fail "app: SLAAC"
    grep -q "^from 192.168.5.50 " "$TMP/udp_peer" || fail "app: the UDP peer did not see 192.168.5.50"
    grep -q "^RESULT select pipe ok socket ok" "$TMP/app_out" || fail "app: select"
    grep -q "^RESULT preempt .* 3 of 3 tasks ended" "$TMP/app_out" || fail "app: preemption stress"
    local line share
    while read -r line; do
        share=$(sed -n 's/.* = \([0-9]*\)%$/\1/p' <<<"$line")
        [ -n "$share" ] && [ "$share" -ge 90 ] || fail "app: tick share below 90 %: $line"
    done < <(grep "^RESULT tick_share" "$TMP/app_out")
    [ "$(grep -c '^RESULT tick_share' "$TMP/app_out")" = 4 ] || fail "app: tick share lines missing"
    grep "^RESULT \(tick_share\|udp_rtt\|preempt\|event_task_idle\)" "$TMP/app_out" | sed "s/^/$VER /" >>"$TMP/times"
}

# The unchanged http_server/simple: its control socket binds UDP
# 127.0.0.1 (gonetif's loopback), curl from the namespace gets /hello, and
# gonetif's own capture shows the curl client's SYN (traffic went through
# gonetif, not the host kernel).
test_http_server() {
    [ "$VER" = v5.5 ] || { echo "http_server: v5.5 only (v6.0/master need Mbed TLS 4.1)"; return 0; }
    prepare http_server protocols/http_server/simple "$STATIC"
    in_ns env GONETIF_PCAP="$TMP/http_server.pcap" timeout 30 "$ELF" >"$TMP/httpd_out" 2>&1 </dev/null &
    local pid=$!
    PIDS+=($pid)
    wait_line "$TMP/httpd_out" "Registering URI handlers" 20
    grep -q "ctrl socket" "$TMP/httpd_out" && { cat "$TMP/httpd_out"; fail "http_server: control socket failed"; }
    in_ns curl -sS --max-time 10 -H "Test-Header-1: from-curl" "http://192.168.5.100:8001/hello?query1=gonetif" \
        >"$TMP/curl_out" 2>&1 || { cat "$TMP/curl_out"; tail -20 "$TMP/httpd_out"; fail "http_server: curl failed"; }
    grep -qx "Hello World!" "$TMP/curl_out" || { cat "$TMP/curl_out"; fail "http_server: wrong /hello page"; }
    wait_line "$TMP/httpd_out" "Found header => Test-Header-1: from-curl" 5
    grep -q "Found URL query parameter => query1=gonetif" "$TMP/httpd_out" || fail "http_server: query not seen"
    # The capture reaches its file within 100 ms (gonetif's flush interval).
    local syn_filter='tcp[tcpflags] & tcp-syn != 0 and src host 192.168.5.1 and dst host 192.168.5.100 and dst port 8001' syns=0
    wait_for 5 sh -c "tcpdump -nn -r '$TMP/http_server.pcap' '$syn_filter' 2>/dev/null | grep -q ."
    syns=$(tcpdump -nn -r "$TMP/http_server.pcap" "$syn_filter" 2>/dev/null | wc -l)
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ "$syns" -ge 1 ] || fail "http_server: gonetif's capture has no SYN from the curl client 192.168.5.1"
    echo "$VER http_server ok: /hello to curl at 192.168.5.1 ($syns SYN in gonetif's capture)" | tee -a "$TMP/times"
}

# bad_case NAME TIMEOUT PATTERN ERR CMD...: CMD must end by itself (not by
# timeout, not with 0) within TIMEOUT s, with an E line matching PATTERN
# and the esp_err_t name ERR in its output.
bad_case() {
    local name=$1 limit=$2 pattern=$3 err=$4 t0=$SECONDS
    shift 4
    in_ns timeout "$limit" "$@" >"$TMP/bad_$name" 2>&1 </dev/null
    local rc=$?
    [ $rc != 124 ] && [ $rc != 0 ] || { tail "$TMP/bad_$name"; fail "bad_input $name: exit $rc (want an error, not a hang or success)"; }
    grep -aq "^E (.*$pattern" "$TMP/bad_$name" || { tail "$TMP/bad_$name"; fail "bad_input $name: no E line with '$pattern'"; }
    grep -aq "$err" "$TMP/bad_$name" || { tail "$TMP/bad_$name"; fail "bad_input $name: no $err"; }
    echo "$VER bad_input $name ok: $err in $((SECONDS - t0)) s: $(grep -am1 "^E (.*$pattern" "$TMP/bad_$name" | tr -cd '[:print:]')" | tee -a "$TMP/times"
}

# built_elf APP: the ELF of an app this run (or an earlier one) built.
built_elf() {
    ELF=$(ls "$WORK/$1"/build/*.elf 2>/dev/null | head -1)
    [ -x "$ELF" ] || fail "bad_input: run $1 first (no .elf in $WORK/$1/build)"
}

test_bad_input() {
    built_elf tcp_client
    # tcp_client's example_connect() fails, its ESP_ERROR_CHECK aborts.
    bad_case missing_tap 20 "nosuch0.*does not exist" ESP_FAIL env GONETIF_TAP=nosuch0 "$ELF"
    # A TAP of user 12345, opened by a process that is not that user and
    # lacks CAP_NET_ADMIN (still uid 0, so it reads its build's files).
    make_tap tapf "" 12345
    bad_case foreign_tap 20 "tapf.*must be owned by this user" ESP_FAIL \
        setpriv --bounding-set=-net_admin --inh-caps=-net_admin env GONETIF_TAP=tapf "$ELF"
    built_elf gnt_idf_app
    # No dnsmasq on the link: example_connect() gives up after the app's
    # CONFIG_EXAMPLE_CONNECT_WAIT_TIMEOUT_S (10 s).
    bad_case dhcp_no_server 30 "no IPv4 address within 10 s" ESP_ERR_TIMEOUT "$ELF"
}

for app in "${APPS[@]}"; do
    declare -F "test_$app" >/dev/null || fail "unknown app $app"
    make_ns
    make_tap tap0 192.168.5.1/24
    "test_$app"
    cleanup_ns() { local p; for p in "${PIDS[@]}"; do stop_bg "$p"; wait "$p" 2>/dev/null; done; PIDS=(); ip netns del "$NS"; NS=""; }
    cleanup_ns
done
cp "$TMP/times" "$WORK/times.txt"
cat "$TMP/times"
pass
