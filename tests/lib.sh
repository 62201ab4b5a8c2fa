# Shared helpers for the integration tests: a throwaway network namespace
# with real TAP devices and real peers, cleaned up on exit. Every wait is
# bounded; processes are stopped by the PIDs we started.
set -uo pipefail

GNT_BIN=${GNT_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}
APP=$GNT_BIN/tests/gnt_app
TEST_NAME=$(basename "$0" .sh)
NS=""
PIDS=()

fail() {
    echo "FAIL $TEST_NAME: $*"
    exit 1
}

pass() {
    echo "PASS $TEST_NAME"
    exit 0
}

# Skips (exit 77) without root, /dev/net/tun or the peers, unless
# GONETIF_REQUIRE_PRIV=1 (CI), where a missing prerequisite is a failure.
require_priv() {
    local why=()
    [ "$(id -u)" = 0 ] || why+=("root")
    [ -c /dev/net/tun ] || why+=("/dev/net/tun")
    local tool
    for tool in ip socat nc ping ss setpriv "$@"; do
        command -v "$tool" >/dev/null 2>&1 || why+=("$tool")
    done
    if [ ${#why[@]} -gt 0 ]; then
        if [ "${GONETIF_REQUIRE_PRIV:-}" = 1 ]; then
            fail "missing ${why[*]} (GONETIF_REQUIRE_PRIV=1: TAP tests must run here)"
        fi
        echo "SKIP $TEST_NAME: needs ${why[*]}; run as root with /dev/net/tun (CI does)"
        exit 77
    fi
}

# stop_bg PID: stop a start_bg command and whatever it forked (socat's
# fork children keep a connection, and the namespace, alive otherwise).
stop_bg() {
    kill -- "-$1" 2>/dev/null || kill "$1" 2>/dev/null
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        stop_bg "$pid"
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
    return 0
}
TMP=$(mktemp -d)
trap cleanup EXIT

make_ns() {
    NS="gnt-$$-$RANDOM"
    ip netns add "$NS" || fail "cannot create netns"
    ip -n "$NS" link set lo up
}

# make_tap NAME CIDR [OWNER_UID]
make_tap() {
    ip -n "$NS" tuntap add dev "$1" mode tap ${3:+user "$3"} || fail "cannot create TAP $1"
    [ -n "$2" ] && ip -n "$NS" addr add "$2" dev "$1"
    ip -n "$NS" link set "$1" up
}

in_ns() {
    ip netns exec "$NS" "$@"
}

# start_bg OUTFILE CMD... : run CMD in the namespace in the background,
# as the leader of its own process group (stop_bg ends the group).
start_bg() {
    local out=$1
    shift
    setsid ip netns exec "$NS" "$@" >"$out" 2>&1 &
    PIDS+=($!)
    LAST_PID=$!
}

# dump_threads PID: every thread's backtrace of PID's child (the program
# under `timeout`), for a test that found it hung; gdb is in scripts/deps.
dump_threads() {
    local child
    child=$(pgrep -P "$1" | head -1)
    [ -n "$child" ] || { echo "dump_threads: no child of $1"; return 0; }
    command -v gdb >/dev/null || { echo "dump_threads: no gdb"; return 0; }
    echo "--- threads of $child (hung)"
    timeout 60 gdb -p "$child" -batch -nx -ex "set pagination off" -ex "thread apply all bt 30" 2>&1 |
        grep -v "^\[New LWP\|^warning:" | head -400
}

# wait_for SECONDS CMD... : retry CMD until it succeeds or time is up.
wait_for() {
    local end=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge $end ] && return 1
        sleep 0.1
    done
}

wait_listen_tcp() { wait_for 10 in_ns sh -c "ss -Hltn 'sport = :$1' | grep -q ." || fail "nothing listens on tcp/$1"; }
wait_listen_udp() { wait_for 10 in_ns sh -c "ss -Hlun 'sport = :$1' | grep -q ." || fail "nothing listens on udp/$1"; }
wait_line() { wait_for "${3:-15}" grep -q "$2" "$1" || { cat "$1"; fail "no '$2' in $1"; }; }

# udp_peer OUT ADDR PORT [echo]: a UDP server in the namespace on
# ADDR:PORT printing "from IP LENGTH TEXT" to OUT per datagram (with echo,
# it sends each back), waited for until it listens.
udp_peer() {
    start_bg "$1" python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(2048)
    print("from", peer[0], len(data), data.decode(errors="replace"), flush=True)
    if sys.argv[3] == "echo":
        s.sendto(data, peer)' "$2" "$3" "${4:-}"
    wait_listen_udp "$3"
}

# echo_peer PORT: a socat TCP echo in the namespace (the host side of the
# TAP) on PORT, waited for until it listens; its log is $TMP/echo-PORT.
echo_peer() {
    start_bg "$TMP/echo-$1" socat TCP-LISTEN:"$1",fork,reuseaddr EXEC:cat
    wait_listen_tcp "$1"
}

# ---- user-mode link (GONETIF_LINK=user): no root, TAP or namespace ----

# require_tools TOOL... : skips (77) when a host tool is missing, unless
# GONETIF_REQUIRE_PRIV=1 (CI), where it is a failure. Runs as any user.
require_tools() {
    local why=() tool
    for tool in setpriv "$@"; do
        command -v "$tool" >/dev/null 2>&1 || why+=("$tool")
    done
    if [ ${#why[@]} -gt 0 ]; then
        [ "${GONETIF_REQUIRE_PRIV:-}" = 1 ] && fail "missing ${why[*]}"
        echo "SKIP $TEST_NAME: needs ${why[*]} (scripts/deps installs them)"
        exit 77
    fi
}

# unprivileged CMD... : as root, become nobody with no capabilities at all;
# as anyone else, run with no inheritable capabilities. The app must never
# need /dev/net/tun: point the clone device at nothing.
unprivileged() {
    # In a subshell (host_bg, $(...)) exec, so the PID host_bg records is the
    # app's own and cleanup stops the app, not a shell around it.
    local run=()
    [ "$BASH_SUBSHELL" -gt 0 ] && run=(exec)
    if [ "$(id -u)" = 0 ]; then
        GONETIF_TUN_DEVICE=/nonexistent/tun "${run[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups \
            --inh-caps=-all --bounding-set=-all "$@"
    else
        GONETIF_TUN_DEVICE=/nonexistent/tun "${run[@]}" setpriv --inh-caps=-all "$@"
    fi
}

# host_bg OUTFILE CMD... : run CMD on the host in the background.
host_bg() {
    local out=$1
    shift
    "$@" >"$out" 2>&1 &
    PIDS+=($!)
    LAST_PID=$!
}

# free_port: a TCP/UDP port nothing on the host's loopback uses now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_host_tcp() { wait_for 10 sh -c "ss -Hltn 'sport = :$1' | grep -q ." || fail "nothing listens on host tcp/$1"; }

# readme_block NAME: the fenced block after "<!-- test: NAME -->" in
# README.md, for tests that run the README's own commands and files.
readme_block() {
    awk -v tag="<!-- test: $1 -->" '$0 == tag {found=1; next}
        found && /^```/ {if (inblock) exit; inblock=1; next}
        inblock {print}' "${GNT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/README.md"
}

# set_as_user: AS_USER becomes the prefix that runs a command as nobody
# with no capabilities when we are root, and nothing for anyone else (an
# ordinary user is unprivileged already).
set_as_user() {
    AS_USER=()
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || fail "setpriv (util-linux) missing: needed to drop root"
        AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all --)
    fi
}

# user_bg OUTFILE CMD... : CMD in the background as AS_USER (set_as_user),
# started directly so that $LAST_PID (and cleanup) are CMD's own.
user_bg() {
    local out=$1
    shift
    "${AS_USER[@]}" "$@" >"$out" 2>&1 &
    PIDS+=($!)
    LAST_PID=$!
}

# make_lan_dir: LAN becomes a folder under $TMP where the unprivileged user
# may make sockets and files ($TMP itself may be passed through, not listed).
make_lan_dir() {
    chmod 711 "$TMP"
    LAN=$TMP/lan
    mkdir "$LAN" && chmod 1777 "$LAN" || fail "cannot make $LAN"
}
