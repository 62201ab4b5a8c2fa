package stack_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/stack"
)

// TestGvisorProbeInRecovery: the client sends a burst of 16 segments and
// nothing after it; the first segment and its first retransmission are
// dropped, so the client is in SACK recovery with the hole's resend lost
// and no later segment to show it (the peer has SACKed the other 15).
// The pinned gVisor arms no loss probe in recovery, so only the
// retransmission timer (200 ms floor here) repairs the hole, with the
// timeout's window collapse; the overlay (internal/gvisorfix, the three
// rack.go edits) probes in recovery too, resending the hole after about
// two round trips. The test wants the burst delivered within 100 ms and no
// timeout. Built without the overlay (GOFLAGS empty) it is expected to
// fail: measured 0.21 s and one timeout per round.
func TestGvisorProbeInRecovery(t *testing.T) {
	p := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x04\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x04\x02"), 0)
	drop := newDropHole(p.A)
	cAddr, sAddr := netip.MustParseAddr("10.7.4.1"), netip.MustParseAddr("10.7.4.2")
	// The default floor, 200 ms: a probe is told apart from a timeout.
	client, server := cableStacks(t, stack.Options{NoDelay: true}, stack.Options{}, drop, p.B, cAddr, sAddr, p.Close)
	echoServer(t, server, netip.AddrPortFrom(sAddr, 80))
	// Bursts of 16 full segments; the client writes each at once.
	burst := make([]byte, 16*drop.mss())
	rand.Read(burst)
	timeouts := client.Gvisor().Stats().TCP.Timeouts
	// A connection per round: a timeout (without the overlay) leaves a
	// window of one segment, and a small window sends the burst in pieces,
	// so a later segment would show the lost resend.
	const rounds = 3
	for round := 0; round < rounds; round++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := client.DialTCP(ctx, netip.AddrPortFrom(sAddr, 80))
		cancel()
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		echo := func() time.Duration {
			t.Helper()
			start := time.Now()
			c.SetDeadline(start.Add(5 * time.Second))
			if _, err := c.Write(burst); err != nil {
				t.Fatal(err)
			}
			in := make([]byte, len(burst))
			if _, err := io.ReadFull(c, in); err != nil {
				t.Fatalf("echo of %d bytes: %v", len(burst), err)
			}
			if !bytes.Equal(in, burst) {
				t.Fatal("echo differs from what was sent")
			}
			return time.Since(start)
		}
		// Loss-free rounds grow the window past 16 segments (slow start
		// from 10) and measure the RTT.
		for i := 0; i < 4; i++ {
			echo()
		}
		before := timeouts.Value()
		drop.arm()
		took := echo()
		c.Close()
		if n := drop.dropped.Load(); n != 2 {
			t.Fatalf("round %d: %d copies of the first segment dropped, want 2 (the segment and its first resend)", round, n)
		}
		rtos := timeouts.Value() - before
		t.Logf("round %d: burst with its first segment lost twice echoed in %v, %d timeouts", round, took.Round(100*time.Microsecond), rtos)
		if rtos != 0 || took >= 100*time.Millisecond {
			t.Errorf("round %d: %v and %d retransmission timeouts for a lost resend in SACK recovery, want a loss probe (< 100 ms, no timeout)", round, took, rtos)
		}
	}
}

// dropHole drops, once armed, the client's next data segment and the first
// resend of it (same sequence number), then passes everything.
type dropHole struct {
	nested.Endpoint
	armed   atomic.Bool
	seq     atomic.Uint32
	dropped atomic.Int32
	mtu     uint32
}

func newDropHole(lower gvstack.LinkEndpoint) *dropHole {
	d := &dropHole{mtu: lower.MTU()}
	d.Endpoint.Init(lower, d)
	return d
}

// mss is a full segment's payload on this link (IPv4, TCP with
// timestamps).
func (d *dropHole) mss() int {
	return int(d.mtu) - header.IPv4MinimumSize - header.TCPMinimumSize - 12 // 12: the timestamp option, padded
}

func (d *dropHole) arm() {
	d.dropped.Store(0)
	d.armed.Store(true)
}

func (d *dropHole) drop(pkt *gvstack.PacketBuffer) bool {
	if !d.armed.Load() {
		return false
	}
	seg, ok := dataSegment(pkt)
	if !ok {
		return false
	}
	switch d.dropped.Load() {
	case 0:
		d.seq.Store(seg.SequenceNumber())
		d.dropped.Store(1)
		return true
	case 1:
		if seg.SequenceNumber() == d.seq.Load() {
			d.dropped.Store(2)
			d.armed.Store(false)
			return true
		}
	}
	return false
}

func (d *dropHole) WritePackets(pkts gvstack.PacketBufferList) (int, tcpip.Error) {
	return writeKept(&d.Endpoint, pkts, d.drop)
}
