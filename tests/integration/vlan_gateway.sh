#!/usr/bin/env bash
# N app processes on one virtual LAN with the user-mode gateway of
# `gonetif-switch -gateway`, no TAP, no namespace, no root: each takes its
# own DHCP lease (.15, .16, ...) and its got-IP event, reaches a socat echo
# on the host's loopback through 10.0.2.2, resolves through 10.0.2.3, and
# they exchange TCP with each other; a host port forward of the switch
# reaches one of them. Also GONETIF_LINK=user:NAME: two devices of one
# process on an in-process LAN with its gateway. Run as root (CI), the switch and the apps run as
# nobody with no capabilities.
source "$(dirname "$0")/../lib.sh"
require_tools socat ss python3
SWITCH=$GNT_BIN/gonetif-switch
CLIENT=$GNT_BIN/examples/c_tcp_client/c_tcp_client
for bin in "$SWITCH" "$APP" "$CLIENT" "$GNT_BIN/tests/gnt_ipapp"; do
    [ -x "$bin" ] || fail "no $bin: build first (scripts/build)"
done
make_lan_dir
SOCK=$LAN/switch.sock

# unprivileged is a shell function: in the background its PID would be a
# subshell's; user_bg starts CMD as the same unprivileged user directly.
set_as_user
[ "$(id -u)" = 0 ] || AS_USER=(setpriv --inh-caps=-all --) # no inheritable capabilities either
unpriv_bg() { GONETIF_TUN_DEVICE=/nonexistent/tun user_bg "$@"; }

echo_port=$(free_port)
host_bg "$TMP/echo" socat TCP-LISTEN:"$echo_port",bind=127.0.0.1,fork,reuseaddr EXEC:cat
wait_host_tcp "$echo_port"

# Bad flags: an error with a usage line, no socket.
unprivileged "$SWITCH" -hostfwd tcp::8080-:80 "$SOCK" >"$TMP/bad" 2>&1 && fail "-hostfwd without -gateway was accepted"
grep -q "need -gateway" "$TMP/bad" && grep -q "^usage: gonetif-switch" "$TMP/bad" || { cat "$TMP/bad"; fail "no reason and usage line"; }
unprivileged "$SWITCH" -gateway -net 10.0.2.0/30 "$SOCK" >"$TMP/bad" 2>&1 && fail "a /30 gateway network was accepted"
grep -q "invalid user-mode network options" "$TMP/bad" || { cat "$TMP/bad"; fail "no reason for the bad network"; }
[ ! -e "$SOCK" ] || fail "a failed start left a socket"

fwd_port=$(free_port)
unpriv_bg "$TMP/switch" "$SWITCH" -gateway -hostfwd "tcp::$fwd_port-10.0.2.15:5000" "$SOCK"
SWITCH_PID=$LAST_PID
wait_line "$TMP/switch" "listening on $SOCK"
grep -q "gateway 10.0.2.2 (the host's 127.0.0.1) on 10.0.2.0/24, DNS 10.0.2.3, DHCP from 10.0.2.15" "$TMP/switch" ||
    { cat "$TMP/switch"; fail "no gateway line"; }
grep -q "forward tcp 127.0.0.1:$fwd_port to 10.0.2.15:5000" "$TMP/switch" || { cat "$TMP/switch"; fail "no forward line"; }
export GONETIF_LINK=vlan:$SOCK

# lease FILE: the address of the got-IP event an app printed.
lease() { sed -n -e 's/^GOT_IP //p' -e 's/.*got IP event for tap: \([0-9.]*\).*/\1/p' "$1" | head -1; }
# A lease is the app's while it runs; one released at exit is given again.
fresh_lease() {
    case $(lease "$1") in
    10.0.2.1[789] | 10.0.2.2[0-9] | 10.0.2.30) ;;
    *) cat "$1"; fail "$2: lease '$(lease "$1")', want one of .17-.30 (.15, .16 are taken)" ;;
    esac
}

# Devices 1 (.15) and 2 (.16): echo servers, running throughout.
unpriv_bg "$TMP/server" "$APP" --dhcp lan serve-tcp 5000 3
SERVER_PID=$LAST_PID
wait_line "$TMP/server" LISTENING
[ "$(lease "$TMP/server")" = 10.0.2.15 ] || { cat "$TMP/server"; fail "device 1: lease '$(lease "$TMP/server")', want 10.0.2.15"; }
unpriv_bg "$TMP/server2" "$APP" --dhcp lan serve-tcp 5001 1
SERVER2_PID=$LAST_PID
wait_line "$TMP/server2" LISTENING
[ "$(lease "$TMP/server2")" = 10.0.2.16 ] || { cat "$TMP/server2"; fail "device 2: lease '$(lease "$TMP/server2")', want 10.0.2.16"; }

# Device 3: the example in DHCP mode, to the host's echo via the gateway.
unprivileged timeout 30 "$CLIENT" --dhcp --host 10.0.2.2 --port "$echo_port" --count 2 >"$TMP/c3" 2>&1 ||
    { cat "$TMP/c3"; fail "device 3: client exited with an error"; }
fresh_lease "$TMP/c3" "device 3"
[ "$(grep -c "Received 19 bytes from 10.0.2.2" "$TMP/c3")" = 2 ] || { cat "$TMP/c3"; fail "device 3: not 2 replies through the gateway"; }

# Device 4: to the host's echo and to devices 1 and 2, in one process.
unprivileged timeout 30 "$APP" --dhcp lan tcp-echo 10.0.2.2 "$echo_port" "to the host" \
    10.0.2.15 5000 "to device 1" 10.0.2.16 5001 "to device 2" \
    >"$TMP/c4" 2>&1 || { cat "$TMP/c4" "$TMP/server" "$TMP/server2"; fail "device 4: tcp-echo failed"; }
fresh_lease "$TMP/c4" "device 4"
for r in "to the host" "to device 1" "to device 2"; do
    grep -q "^REPLY $r$" "$TMP/c4" || { cat "$TMP/c4"; fail "device 4: no reply '$r'"; }
done
wait "$SERVER2_PID" || { cat "$TMP/server2"; fail "device 2 exited with an error"; }

# Device 5: the example to device 1 across the LAN.
unprivileged timeout 30 "$CLIENT" --dhcp --host 10.0.2.15 --port 5000 --count 2 >"$TMP/c5" 2>&1 ||
    { cat "$TMP/c5" "$TMP/server"; fail "device 5: client exited with an error"; }
fresh_lease "$TMP/c5" "device 5"
[ "$(grep -c "Received 19 bytes from 10.0.2.15" "$TMP/c5")" = 2 ] || { cat "$TMP/c5"; fail "device 5: not 2 replies from device 1"; }

# DNS at 10.0.2.3 from the lease, answered from the host (localhost only:
# no query leaves this machine).
unprivileged timeout 30 "$GNT_BIN/tests/gnt_ipapp" --dhcp lan wait-ip 10 resolve localhost 4 >"$TMP/dns" 2>&1 ||
    { cat "$TMP/dns"; fail "gnt_ipapp exited with an error"; }
grep -q "^RESOLVED localhost 127.0.0.1" "$TMP/dns" || { cat "$TMP/dns"; fail "localhost not resolved through 10.0.2.3"; }

# In one process: GONETIF_LINK=user:NAME, two devices on an in-process LAN
# with its own gateway (the switch's is not involved): two leases.
GONETIF_LINK=user:lab unprivileged timeout 30 "$APP" --dhcp a --dhcp b tcp-echo 10.0.2.2 "$echo_port" "two boards" \
    >"$TMP/inproc" 2>&1 || { cat "$TMP/inproc"; fail "user:lab: tcp-echo failed"; }
grep -q "^GOT_IP 10.0.2.15$" "$TMP/inproc" && grep -q "^GOT_IP 10.0.2.16$" "$TMP/inproc" ||
    { cat "$TMP/inproc"; fail "user:lab: not two leases .15 and .16"; }
grep -q "^REPLY two boards$" "$TMP/inproc" || { cat "$TMP/inproc"; fail "user:lab: no reply through the gateway"; }
grep -q 'in-process virtual LAN "lab" .* with the user-mode gateway 10.0.2.2' "$TMP/inproc" ||
    { cat "$TMP/inproc"; fail "user:lab: no log line for the LAN and its gateway"; }

# The host reaches device 1 through the switch's forward.
reply=$(printf 'from the host' | timeout 10 socat -t 5 - TCP:127.0.0.1:"$fwd_port") || fail "socat to the forward failed"
[ "$reply" = "from the host" ] || { cat "$TMP/server"; fail "forward echoed '$reply'"; }
wait "$SERVER_PID" || { cat "$TMP/server"; fail "device 1 exited with an error"; }
for peer in "$(lease "$TMP/c4")" "$(lease "$TMP/c5")" 10.0.2.2; do
    grep -q "ACCEPTED $peer" "$TMP/server" || { cat "$TMP/server"; fail "device 1 had no connection from $peer"; }
done

kill -TERM "$SWITCH_PID"
wait "$SWITCH_PID" || { cat "$TMP/switch"; fail "switch exited with an error after SIGTERM"; }
[ ! -e "$SOCK" ] || fail "switch left its socket behind"
grep -q "stopped; forwarded" "$TMP/switch" || { cat "$TMP/switch"; fail "no clean stop"; }
pass
