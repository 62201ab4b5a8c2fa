// Package loss is a link layer that drops a percentage of the frames
// passing through it, to test behaviour on a lossy link (IDF's tapif_io
// has the same knobs).
//
// It wraps any stack.LinkEndpoint. With host GSO below, one dropped
// outgoing frame can be a TCP super-segment (up to 64 KiB): loss is applied
// per frame handed to the link, not per wire segment.
package loss

import (
	"math/rand/v2"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

var (
	_ stack.LinkEndpoint      = (*Endpoint)(nil)
	_ stack.GSOEndpoint       = (*Endpoint)(nil)
	_ stack.NetworkDispatcher = (*Endpoint)(nil)
)

// Endpoint drops frames in either direction with fixed probabilities.
type Endpoint struct {
	nested.Endpoint
	in, out  atomic.Uint32 // percent; SetPercent changes them while frames flow
	seed     uint64
	inCount  atomic.Uint64 // draws so far, per direction: the RNG's state
	outCount atomic.Uint64
	inDrops  atomic.Uint64
	outDrops atomic.Uint64
}

// Option configures New.
type Option func(*Endpoint)

// WithSeed makes the drop pattern reproducible: for the same seed, the n-th
// frame in a direction is dropped or not identically on every run.
func WithSeed(seed uint64) Option {
	return func(e *Endpoint) { e.seed = seed }
}

// New wraps lower, dropping inPercent of received and outPercent of
// transmitted frames. Percentages outside 0..100 yield an error wrapping
// unix.EINVAL. Without WithSeed the seed is random.
func New(lower stack.LinkEndpoint, inPercent, outPercent int, opts ...Option) (*Endpoint, error) {
	if lower == nil || inPercent < 0 || inPercent > 100 || outPercent < 0 || outPercent > 100 {
		return nil, &Error{In: inPercent, Out: outPercent}
	}
	e := &Endpoint{seed: randomSeed()}
	e.in.Store(uint32(inPercent))
	e.out.Store(uint32(outPercent))
	for _, o := range opts {
		o(e)
	}
	e.Endpoint.Init(lower, e)
	return e, nil
}

// Error reports invalid percentages; it unwraps to unix.EINVAL.
type Error struct{ In, Out int }

func (e *Error) Error() string {
	return "loss: percentages must be 0..100 and the lower endpoint non-nil"
}

// Unwrap returns unix.EINVAL.
func (e *Error) Unwrap() error { return unix.EINVAL }

// SetPercent changes both probabilities while the link runs (a test that
// connects loss-free, then turns loss on); the same range rule as New.
// gVisor reads GSOMaxSize when a connection is made, so a connection made
// loss-free may keep sending super-segments on a link that has them.
func (e *Endpoint) SetPercent(inPercent, outPercent int) error {
	if inPercent < 0 || inPercent > 100 || outPercent < 0 || outPercent > 100 {
		return &Error{In: inPercent, Out: outPercent}
	}
	e.in.Store(uint32(inPercent))
	e.out.Store(uint32(outPercent))
	return nil
}

// Dropped returns how many received and transmitted frames were dropped.
func (e *Endpoint) Dropped() (in, out uint64) {
	return e.inDrops.Load(), e.outDrops.Load()
}

// Frames returns how many received and transmitted frames the layer has
// seen, dropped ones included: with Dropped, the loss rate actually applied.
func (e *Endpoint) Frames() (in, out uint64) {
	return e.inCount.Load(), e.outCount.Load()
}

// drop draws the next number of a direction's stream. A counter hashed with
// splitmix64 is lock-free and reproducible, unlike a shared RNG.
func (e *Endpoint) drop(percent uint32, counter *atomic.Uint64, salt uint64) bool {
	n := counter.Add(1) // counted at 0 and 100 % too: Frames counts every frame
	switch percent {
	case 0:
		return false
	case 100:
		return true
	}
	x := e.seed ^ salt + n*0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return uint32(x%100) < percent
}

// DeliverNetworkPacket implements stack.NetworkDispatcher (the receive side).
func (e *Endpoint) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	if e.drop(e.in.Load(), &e.inCount, 0x5bd1e995) {
		e.inDrops.Add(1)
		return
	}
	e.Endpoint.DeliverNetworkPacket(proto, pkt)
}

// WritePackets implements stack.LinkEndpoint (the transmit side). Dropped
// frames count as written, as on a real wire.
func (e *Endpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	out := e.out.Load()
	if out == 0 {
		e.outCount.Add(uint64(pkts.Len()))
		return e.Endpoint.WritePackets(pkts)
	}
	total := pkts.Len()
	var keep stack.PacketBufferList
	for _, pkt := range pkts.AsSlice() {
		if e.drop(out, &e.outCount, 0xc2b2ae35) {
			e.outDrops.Add(1)
			continue
		}
		keep.PushBack(pkt)
	}
	if keep.Len() == 0 {
		return total, nil
	}
	n, err := e.Endpoint.WritePackets(keep)
	if err != nil {
		return n, err
	}
	return total, nil
}

func randomSeed() uint64 { return rand.Uint64() }

// GSOMaxSize implements stack.GSOEndpoint: with outgoing loss the stack
// sends one wire segment per frame, so a drop loses one segment and not a
// whole 64 KiB super-segment (often the whole flight, which only a
// retransmission timeout recovers).
func (e *Endpoint) GSOMaxSize() uint32 {
	if e.out.Load() != 0 {
		return 0
	}
	return e.Endpoint.GSOMaxSize()
}

// SupportedGSO implements stack.GSOEndpoint (see GSOMaxSize).
func (e *Endpoint) SupportedGSO() stack.SupportedGSO {
	if e.out.Load() != 0 {
		return stack.GSONotSupported
	}
	return e.Endpoint.SupportedGSO()
}
