// Package delay is a link layer that holds frames for a fixed time, with
// optional jitter, in each direction: a long or wobbly cable for testing
// timeouts and retransmission on a PC. It stacks like loss and capture on
// any stack.LinkEndpoint.
//
// Without jitter frames leave in the order they came. With jitter each
// frame's delay is drawn uniformly from [delay-jitter, delay+jitter], so
// frames can overtake each other, as on a real path with variable delay.
// Each direction holds at most QueueLen frames; beyond that frames are
// dropped (and counted), as a full router queue drops them.
package delay

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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

const (
	// DefaultQueueLen is the per-direction bound when Options.QueueLen is 0.
	DefaultQueueLen = 4096
	// MaxDelay bounds a delay (and a jitter).
	MaxDelay = time.Minute
)

// Spec is one direction's delay: each frame waits Delay ± Jitter.
type Spec struct {
	Delay, Jitter time.Duration
}

// IsZero reports whether the direction passes frames through at once.
func (s Spec) IsZero() bool { return s.Delay == 0 && s.Jitter == 0 }

// String formats s as ParseSpec reads it.
func (s Spec) String() string {
	if s.Jitter == 0 {
		return s.Delay.String()
	}
	return s.Delay.String() + "/" + s.Jitter.String()
}

// Error reports a bad delay specification or option; it unwraps to
// unix.EINVAL.
type Error struct{ Msg string }

func (e *Error) Error() string { return "delay: " + e.Msg }

// Unwrap returns unix.EINVAL.
func (e *Error) Unwrap() error { return unix.EINVAL }

// ParseSpec reads "DELAY" or "DELAY/JITTER", each a Go duration with its
// unit ("20ms", "1.5s", "250us"); "" and "0" mean no delay. The jitter
// may not exceed the delay (frames never leave before they arrive).
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return Spec{}, nil
	}
	d, j, hasJitter := strings.Cut(s, "/")
	var spec Spec
	var err error
	if spec.Delay, err = time.ParseDuration(strings.TrimSpace(d)); err != nil {
		return Spec{}, &Error{Msg: fmt.Sprintf("%q: want a duration with a unit, e.g. 20ms, or delay/jitter, e.g. 20ms/5ms", s)}
	}
	if hasJitter {
		if spec.Jitter, err = time.ParseDuration(strings.TrimSpace(j)); err != nil {
			return Spec{}, &Error{Msg: fmt.Sprintf("%q: jitter %q is not a duration with a unit, e.g. 5ms", s, j)}
		}
	}
	return spec, spec.check()
}

func (s Spec) check() error {
	switch {
	case s.Delay < 0 || s.Jitter < 0:
		return &Error{Msg: fmt.Sprintf("%v: negative delay or jitter", s)}
	case s.Delay > MaxDelay:
		return &Error{Msg: fmt.Sprintf("%v: delay above %v", s, MaxDelay)}
	case s.Jitter > s.Delay:
		return &Error{Msg: fmt.Sprintf("%v: jitter above the delay", s)}
	}
	return nil
}

// Options configure New.
type Options struct {
	In, Out  Spec   // received and transmitted frames
	QueueLen int    // frames held per direction; 0: DefaultQueueLen
	Seed     uint64 // jitter draws; 0: random
}

// Endpoint delays frames in both directions.
type Endpoint struct {
	nested.Endpoint
	in, out *line // nil: that direction passes straight through
	closed  atomic.Bool
}

// New wraps lower. Close (the stack calls it when the NIC goes) stops the
// layer's goroutines, drops what it still holds and closes lower.
func New(lower stack.LinkEndpoint, opts Options) (*Endpoint, error) {
	if lower == nil {
		return nil, &Error{Msg: "nil lower endpoint"}
	}
	if err := opts.In.check(); err != nil {
		return nil, err
	}
	if err := opts.Out.check(); err != nil {
		return nil, err
	}
	if opts.QueueLen == 0 {
		opts.QueueLen = DefaultQueueLen
	}
	if opts.QueueLen < 1 {
		return nil, &Error{Msg: fmt.Sprintf("queue length %d", opts.QueueLen)}
	}
	if opts.Seed == 0 {
		opts.Seed = rand.Uint64()
	}
	e := &Endpoint{}
	e.Endpoint.Init(lower, e)
	if !opts.In.IsZero() {
		e.in = newLine(opts.In, opts.QueueLen, opts.Seed, e.deliver)
	}
	if !opts.Out.IsZero() {
		e.out = newLine(opts.Out, opts.QueueLen, opts.Seed^0x9e3779b97f4a7c15, e.write)
	}
	return e, nil
}

// Dropped returns how many received and transmitted frames found their
// direction's queue full.
func (e *Endpoint) Dropped() (in, out uint64) {
	if e.in != nil {
		in = e.in.drops.Load()
	}
	if e.out != nil {
		out = e.out.drops.Load()
	}
	return in, out
}

// DeliverNetworkPacket implements stack.NetworkDispatcher (the receive side).
func (e *Endpoint) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	if e.in == nil {
		e.Endpoint.DeliverNetworkPacket(proto, pkt)
		return
	}
	e.in.push(proto, pkt)
}

// WritePackets implements stack.LinkEndpoint (the transmit side). Frames
// held or dropped at a full queue count as written, as on a real wire.
func (e *Endpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	if e.out == nil {
		return e.Endpoint.WritePackets(pkts)
	}
	for _, pkt := range pkts.AsSlice() {
		e.out.push(0, pkt)
	}
	return pkts.Len(), nil
}

func (e *Endpoint) deliver(batch []held) {
	for _, h := range batch {
		e.Endpoint.DeliverNetworkPacket(h.proto, h.pkt)
	}
}

func (e *Endpoint) write(batch []held) {
	var l stack.PacketBufferList
	for _, h := range batch {
		l.PushBack(h.pkt)
	}
	// A failed write is a frame lost on the wire; the stack already
	// counted it as sent.
	_, _ = e.Endpoint.WritePackets(l)
}

// Close implements stack.LinkEndpoint. It may be re-entered (closing the
// lower endpoint can make the stack remove the NIC, which closes us again):
// later calls return at once.
func (e *Endpoint) Close() {
	if e.closed.Swap(true) {
		return
	}
	if e.in != nil {
		e.in.close()
	}
	if e.out != nil {
		e.out.close()
	}
	e.Endpoint.Close()
}

// held is one frame waiting for its time.
type held struct {
	due   int64 // monotonic nanoseconds since the line's epoch
	seq   uint64
	proto tcpip.NetworkProtocolNumber
	pkt   *stack.PacketBuffer
}

// queue orders by due time, then arrival: without jitter due times never
// decrease, so this is first in, first out.
type queue []held

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	return q[i].due < q[j].due || (q[i].due == q[j].due && q[i].seq < q[j].seq)
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(held)) }
func (q *queue) Pop() any {
	old := *q
	h := old[len(old)-1]
	old[len(old)-1] = held{}
	*q = old[:len(old)-1]
	return h
}

// line is one direction: a bounded queue and the goroutine that releases
// frames when they are due.
type line struct {
	spec    Spec
	max     int
	release func([]held)
	epoch   time.Time

	mu    sync.Mutex
	q     queue
	seq   uint64
	rng   *rand.Rand
	drops atomic.Uint64

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newLine(spec Spec, max int, seed uint64, release func([]held)) *line {
	l := &line{
		spec: spec, max: max, release: release, epoch: time.Now(),
		rng:  rand.New(rand.NewPCG(seed, seed>>1|1)),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go l.run()
	return l
}

func (l *line) now() int64 { return int64(time.Since(l.epoch)) }

func (l *line) push(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	l.mu.Lock()
	if len(l.q) >= l.max {
		l.mu.Unlock()
		l.drops.Add(1)
		return
	}
	d := l.spec.Delay
	if l.spec.Jitter > 0 {
		d += time.Duration(l.rng.Int64N(2*int64(l.spec.Jitter)+1)) - l.spec.Jitter
	}
	l.seq++
	pkt.IncRef() // the caller releases its reference when we return
	h := held{due: l.now() + int64(d), seq: l.seq, proto: proto, pkt: pkt}
	heap.Push(&l.q, h)
	first := l.q[0].seq == h.seq
	l.mu.Unlock()
	if first { // the goroutine may be sleeping for a later frame
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

func (l *line) run() {
	defer close(l.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var batch []held
	for {
		l.mu.Lock()
		now := l.now()
		for len(l.q) > 0 && l.q[0].due <= now {
			batch = append(batch, heap.Pop(&l.q).(held))
		}
		wait := time.Duration(-1)
		if len(l.q) > 0 {
			wait = time.Duration(l.q[0].due - now)
		}
		l.mu.Unlock()
		if len(batch) > 0 {
			l.release(batch)
			for i := range batch {
				batch[i].pkt.DecRef()
				batch[i] = held{}
			}
			batch = batch[:0]
			continue // time went by while releasing
		}
		var tick <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			tick = timer.C
		}
		select {
		case <-tick:
		case <-l.wake:
		case <-l.stop:
			return
		}
	}
}

// close stops the goroutine and drops the frames still held.
func (l *line) close() {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	for _, h := range l.q {
		h.pkt.DecRef()
	}
	l.q = nil
	l.max = 0 // later pushes are dropped
	l.mu.Unlock()
}
