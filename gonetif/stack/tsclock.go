package stack

import (
	"bytes"
	"crypto/sha256"
	"os"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// hostClock is gVisor's standard clock with its monotonic time counted
// from the host's boot (CLOCK_MONOTONIC) instead of from the clock's
// creation. TCP timestamps are that time in milliseconds plus an offset
// per address pair (hostTimestampSecret), as on Linux, so a stack made
// later (a new process) stamps a 4-tuple later than any earlier one did,
// and a peer holding the tuple in TIME_WAIT accepts the new SYN instead
// of rejecting it by PAWS (docs/DESIGN.md, D19).
type hostClock struct {
	tcpip.Clock
	sinceBoot time.Duration // CLOCK_MONOTONIC when the clock was made
}

func newHostClock() tcpip.Clock {
	c := tcpip.NewStdClock()
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return c
	}
	return hostClock{Clock: c, sinceBoot: time.Duration(ts.Nano())}
}

// NowMonotonic implements tcpip.Clock: time since the host's boot.
func (c hostClock) NowMonotonic() tcpip.MonotonicTime {
	return c.Clock.NowMonotonic().Add(c.sinceBoot)
}

// bootIDFile holds the kernel's random ID of the current boot.
const bootIDFile = "/proc/sys/kernel/random/boot_id"

// hostTimestampSecret is the same for every process of one boot of the
// host and unknown off it (a hash of the boot's random ID), so offsets
// hide the clock from peers, as Linux's do, yet every stack on the host
// agrees on them. ok is false without the boot ID (gVisor's random secret
// per stack stays).
func hostTimestampSecret() (secret [16]byte, ok bool) {
	id, err := os.ReadFile(bootIDFile)
	if id = bytes.TrimSpace(id); err != nil || len(id) == 0 {
		return secret, false
	}
	sum := sha256.Sum256(append([]byte("gonetif TCP timestamp offsets\n"), id...))
	copy(secret[:], sum[:])
	return secret, true
}

// timestampSecret is what the overlay adds to gVisor's TCP protocol
// (internal/gvisorfix, add/.../tcp/gonetif_tssecret.go.txt).
type timestampSecret interface {
	SetTimestampSecret(secret [16]byte)
}
