#!/usr/bin/env bash
# No root at run time: a TAP owned by an ordinary user is used by that user.
# A TAP owned by someone else, or missing, gives NULL and a log line, and
# the bad-input checks hold as that user too.
source "$(dirname "$0")/../lib.sh"
require_priv
make_ns
# The README's way to make a user-owned TAP.
"${GNT_SRC:-$(dirname "$0")/../..}/scripts/make_tap_netif" -N "$NS" -n tapuser -a 192.168.5.1/24 -u 65534 ||
    fail "scripts/make_tap_netif failed"
make_tap taproot "" 0
as_nobody() { in_ns setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
# Debian gives /dev/net/tun mode 0666; containers often 0600. A private
# clone device with Debian's mode keeps the host untouched.
chmod 755 "$TMP"
mknod "$TMP/tun" c 10 200 && chmod 666 "$TMP/tun" || fail "cannot make a private TUN clone device"
export GONETIF_TUN_DEVICE=$TMP/tun

GONETIF_TAP=tapuser start_bg "$TMP/app" setpriv --reuid=65534 --regid=65534 --clear-groups "$APP" sleep 30
wait_line "$TMP/app" READY
wait_for 10 in_ns ping -c 1 -W 1 192.168.5.100 || { cat "$TMP/app"; fail "unprivileged app does not answer ping"; }

as_nobody "$GNT_BIN/tests/bad_input" --tap-forbidden taproot --tap-missing nosuchtap >"$TMP/bad" 2>&1 ||
    { cat "$TMP/bad"; fail "bad_input failed"; }
cat "$TMP/bad"
grep -Eq "taproot.*(not permitted|permission)" "$TMP/bad" || fail "no clear log line for the forbidden TAP"
grep -Eq "nosuchtap.*(does not exist|no such)" "$TMP/bad" || fail "no clear log line for the missing TAP"
ip -n "$NS" link show nosuchtap >/dev/null 2>&1 && fail "a missing TAP was created"
pass
