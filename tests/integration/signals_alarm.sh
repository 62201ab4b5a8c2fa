#!/usr/bin/env bash
# IDF v5.5/v6.0's tick set-up (1 ms SIGALRM without SA_ONSTACK, SIGUSR1
# traffic, SIGSEGV replaced after start-up) around gonetif: 10 runs of
# byte-exact TCP transfers over a TAP; ticks must never reach Go threads.
# Then a Go fault after the SIGSEGV replacement must still be Go's panic.
source "$(dirname "$0")/../lib.sh"
require_priv
BIN=$GNT_BIN/tests/signals_test
make_ns
make_tap tap0 192.168.5.1/24
echo_peer 3334
for run in $(seq 1 10); do
    in_ns timeout 60 "$BIN" transfer 192.168.5.1 3334 8 >"$TMP/run$run" 2>&1
    rc=$?
    [ $rc = 0 ] || { grep -v opened "$TMP/run$run"; fail "run $run exited with $rc"; }
    grep -q '^PASS' "$TMP/run$run" || { cat "$TMP/run$run"; fail "run $run"; }
    grep '^ticks' "$TMP/run$run"
done
timeout 20 "$BIN" fault >"$TMP/fault" 2>&1
rc=$?
[ $rc = 0 ] || { cat "$TMP/fault"; fail "fault run exited with $rc"; }
cat "$TMP/fault"
grep -q "^PASS" "$TMP/fault" || fail "Go fault not handled by Go"
pass
