package socket_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/socket"
)

// MonoNow is CLOCK_MONOTONIC, which the C side waits with: a C deadline
// rounded up to a microsecond must find Go's clock past the deadline too,
// or the C caller spins until the two agree.
func TestMonoNowIsClockMonotonic(t *testing.T) {
	worst := int64(0)
	for range 1000 {
		var before, after unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &before)
		m := socket.MonoNow()
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &after)
		if m < before.Nano() {
			worst = max(worst, before.Nano()-m)
		}
		if m > after.Nano() {
			worst = max(worst, m-after.Nano())
		}
	}
	if worst > 500 {
		t.Fatalf("MonoNow is off CLOCK_MONOTONIC by up to %d ns, over half the C side's 1 µs rounding", worst)
	}
	t.Logf("worst offset outside the bracketing CLOCK_MONOTONIC reads: %d ns", worst)
}
