package socket

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Send coalescing: small TCP writes made while Nagle's algorithm would hold
// them anyway go into a per-socket buffer and complete at once; a flusher
// goroutine (one per burst, not a timer) hands the buffer to gVisor in one
// Write. gVisor's per-Write work (a segment, five locks, contention with the
// TCP processor) is what a 64-byte write costs, not the crossing from C.
//
// A write is taken into the buffer when Nagle is on and the previous send on
// the socket was also small with no receive in between (a stream of small
// writes: the earlier ones are still unacknowledged, so Nagle would hold
// this one), or while the buffer is in use (to keep the byte order).

const (
	// coalesceSmall: writes below this size start a batch.
	coalesceSmall = 1024
	// coalesceMax bounds the buffer; the writer that fills it hands it to
	// gVisor itself.
	coalesceMax = 16 << 10
	// closeDrainLimit bounds how long a closed socket's buffered bytes may
	// wait for room in gVisor's send buffer before the connection is reset.
	closeDrainLimit = time.Minute
)

var coalescePool = sync.Pool{New: func() any { b := make([]byte, 0, coalesceMax); return &b }}

// coalescer is a socket's send buffer in front of gVisor.
type coalescer struct {
	so *Socket

	// prevSmall: the last send was small and no receive followed it.
	prevSmall atomic.Bool
	// busy: bytes are buffered, a flusher runs, or an error waits to be
	// reported; while it is false a send needs no lock here.
	busy atomic.Bool
	// off: coalescing was turned off; no new batch starts, but bytes
	// still buffered go first, so sends queue behind them until drained.
	off atomic.Bool

	// wmu orders gVisor Writes of buffered bytes: a batch is taken from
	// pending and written while it is held. Never held while waiting.
	wmu sync.Mutex

	// Under mu; the flags side by side keep the struct at 80 bytes, not 96.
	mu         sync.Mutex
	running    bool                // a flusher goroutine is active
	stalled    bool                // gVisor's send buffer was full at the last Write
	refused    bool                // a send was told EAGAIN: wake writers on progress
	closeAfter bool                // close(2) waiting for the buffer to drain
	pending    *[]byte             // bytes accepted, not yet in gVisor (nil: none)
	err        unix.Errno          // a flush failed: reported by the next send
	shutAfter  tcpip.ShutdownFlags // shutdown(2) waiting for the buffer to drain
	kick       chan struct{}       // wakes a stalled flusher when close is deferred
	// wshut: shutdown(SHUT_WR) or close was asked for; no byte is taken
	// after it. Unlike shutAfter it stays set once the flusher has carried
	// the shutdown out, so a send in between cannot slip in behind the FIN.
	wshut bool
}

// SetSendCoalesce turns send coalescing on or off for a stream socket (a
// no-op for other types). Turning it off hands what is buffered to gVisor
// as far as it has room; sends made before the rest has gone queue behind
// it, to keep the byte order.
func (so *Socket) SetSendCoalesce(on bool) {
	if so.Type != unix.SOCK_STREAM {
		return
	}
	if on {
		if c := so.coal.Load(); c != nil {
			c.off.Store(false)
		} else {
			so.coal.CompareAndSwap(nil, &coalescer{so: so})
		}
		return
	}
	// The coalescer stays: removing it while gVisor's buffer is full
	// let new sends overtake the bytes still buffered.
	if c := so.coal.Load(); c != nil {
		c.off.Store(true)
		c.flush()
	}
}

// SendCoalesce reports whether send coalescing is on.
func (so *Socket) SendCoalesce() bool {
	c := so.coal.Load()
	return c != nil && !c.off.Load()
}

// bound is the buffer's size: at most a quarter of SO_SNDBUF, so that a
// small send buffer keeps about the room it has without coalescing.
func (c *coalescer) bound() int {
	lim := int(c.so.endpoint().SocketOptions().GetSendBufferSize() / 4)
	return max(min(lim, coalesceMax), 512)
}

// canSend: only a connection that can send takes bytes into the buffer;
// every other state gets gVisor's own answer.
func canSend(ep tcpip.Endpoint) bool {
	st := tcp.EndpointState(ep.State())
	return st == tcp.StateEstablished || st == tcp.StateCloseWait
}

func (c *coalescer) updateBusyLocked() {
	c.busy.Store(c.pending != nil || c.running || c.err != 0)
}

func (c *coalescer) takeErrorLocked() error {
	err := c.err
	c.err = 0
	c.updateBusyLocked()
	return err
}

// send takes b into the buffer when it should; handled is false when the
// caller is to write b to gVisor itself.
func (c *coalescer) send(b []byte) (n int, err error, handled bool) {
	small := len(b) < coalesceSmall
	wasSmall := c.prevSmall.Swap(small)
	start := wasSmall && small && !c.off.Load() && c.so.endpoint().SocketOptions().GetDelayOption() && canSend(c.so.endpoint())
	if !start && !c.busy.Load() {
		return 0, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != 0 {
		return 0, c.takeErrorLocked(), true
	}
	if c.wshut {
		return 0, unix.EPIPE, true
	}
	if !start && c.pending == nil && !c.running {
		return 0, nil, false
	}
	if len(b) == 0 {
		return 0, nil, true
	}
	bound := c.bound()
	if c.pending != nil && len(*c.pending)+len(b) > bound && !c.stalled {
		// Full: the writer that fills it hands it over itself, which
		// also keeps it to gVisor's pace.
		c.mu.Unlock()
		c.wmu.Lock()
		c.writeBatchLocked()
		c.wmu.Unlock()
		c.mu.Lock()
		if c.err != 0 {
			return 0, c.takeErrorLocked(), true
		}
		if c.wshut {
			// Shut down while this writer wrote the batch.
			return 0, unix.EPIPE, true
		}
	}
	room := bound
	if c.pending != nil {
		room -= len(*c.pending)
	}
	if room <= 0 {
		c.refused = true
		return 0, unix.EAGAIN, true
	}
	n = min(room, len(b))
	if c.pending == nil {
		c.pending = coalescePool.Get().(*[]byte)
	}
	*c.pending = append(*c.pending, b[:n]...)
	if !c.running {
		c.running = true
		go c.run()
	}
	c.busy.Store(true)
	return n, nil, true
}

// writeBatchLocked writes the buffered bytes to gVisor once (wmu held),
// keeping what does not fit. It reports whether gVisor's buffer was full.
func (c *coalescer) writeBatchLocked() (stalled bool) {
	c.mu.Lock()
	p := c.pending
	c.pending = nil
	c.mu.Unlock()
	if p == nil {
		return false
	}
	r := readerPool.Get().(*bytes.Reader)
	r.Reset(*p)
	n, werr := c.so.endpoint().Write(r, tcpip.WriteOptions{})
	r.Reset(nil)
	readerPool.Put(r)
	rest := (*p)[n:]
	c.mu.Lock()
	wake := c.refused
	switch werr.(type) {
	case nil, *tcpip.ErrWouldBlock:
		if len(rest) > 0 {
			// Back to the front, before anything added meanwhile.
			q := coalescePool.Get().(*[]byte)
			*q = append(*q, rest...)
			if c.pending != nil {
				*q = append(*q, *c.pending...)
				c.release(c.pending)
			}
			c.pending = q
			c.stalled = true
			wake = false
			if !c.running {
				// The flusher ended while this writer held the batch.
				c.running = true
				go c.run()
			}
		}
	default:
		// Linux reports a failed connection on the next call; the
		// unsent bytes die with it.
		c.err = errnoOf(werr)
		if _, ok := werr.(*tcpip.ErrInvalidEndpointState); ok {
			c.err = unix.EPIPE
		}
		if c.pending != nil {
			c.release(c.pending)
			c.pending = nil
		}
		wake = true
	}
	if wake {
		c.refused = false
	}
	stalled = c.stalled
	c.updateBusyLocked()
	c.mu.Unlock()
	c.release(p)
	if wake {
		c.so.wakeWriters()
	}
	return stalled
}

func (c *coalescer) release(p *[]byte) {
	if cap(*p) > 4*coalesceMax {
		return // grown by a stall: let it go
	}
	*p = (*p)[:0]
	coalescePool.Put(p)
}

// run is the flusher: it writes batches until the buffer is empty, waiting
// for room in gVisor's buffer when it is full, then carries out a shutdown
// or close that waited for the bytes.
func (c *coalescer) run() {
	var entry waiter.Entry
	var ready chan struct{}
	var wq *waiter.Queue
	var deadline <-chan time.Time
	defer func() {
		if wq != nil {
			wq.EventUnregister(&entry)
		}
	}()
	for {
		c.mu.Lock()
		if c.pending == nil || c.err != 0 {
			c.finishLocked()
			return
		}
		c.stalled = false
		kick := c.kick
		if c.closeAfter && deadline == nil {
			deadline = time.After(closeDrainLimit)
		}
		c.mu.Unlock()
		c.wmu.Lock()
		stalled := c.writeBatchLocked()
		c.wmu.Unlock()
		if !stalled {
			continue
		}
		if wq == nil {
			// Registered before the retry, so no event is lost.
			entry, ready = waiter.NewChannelEntry(EventOut | EventErr | EventHUp)
			_, wq = c.so.Endpoint()
			wq.EventRegister(&entry)
			c.mu.Lock()
			c.kick = make(chan struct{}, 1)
			c.mu.Unlock()
			continue
		}
		select {
		case <-ready:
		case <-kick:
		case <-deadline:
			// Closed, and the peer took nothing for closeDrainLimit.
			c.mu.Lock()
			if c.pending != nil {
				c.release(c.pending)
				c.pending = nil
			}
			c.mu.Unlock()
			c.so.endpoint().Abort()
		}
	}
}

// finishLocked ends the flusher; called with mu held, it releases it.
func (c *coalescer) finishLocked() {
	c.running = false
	c.stalled = false
	shut, closeEP := c.shutAfter, c.closeAfter
	c.shutAfter, c.closeAfter = 0, false
	wake := c.refused || shut != 0
	c.refused = false
	c.updateBusyLocked()
	c.mu.Unlock()
	if h := finishHook.Load(); h != nil && (shut != 0 || closeEP) {
		(*h)()
	}
	if shut != 0 {
		c.so.endpoint().Shutdown(shut)
	}
	if closeEP {
		c.so.endpoint().Close()
	}
	if wake {
		c.so.wakeWriters()
	}
}

// finishHook, when set (tests only), runs between the flusher's decision to
// carry out a deferred shutdown or close and the call into gVisor.
var finishHook atomic.Pointer[func()]

// flush hands every buffered byte to gVisor now, as far as it has room,
// after any Write in progress. It reports whether bytes remain (gVisor's
// buffer is full; the flusher goes on when room opens).
func (c *coalescer) flush() (left bool) {
	if !c.busy.Load() {
		return false
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for {
		c.mu.Lock()
		empty, stalled := c.pending == nil, c.stalled
		c.mu.Unlock()
		if empty {
			return false
		}
		if stalled || c.writeBatchLocked() {
			return true
		}
	}
}

// reset forgets the connection the buffered bytes were for: they are
// dropped, with any error, deferred shutdown and SHUT_WR, so the socket's
// next connection starts clean (connect(AF_UNSPEC), Socket.Disconnect).
func (c *coalescer) reset() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending != nil {
		c.release(c.pending)
		c.pending = nil
	}
	c.stalled, c.refused, c.err, c.shutAfter, c.wshut = false, false, 0, 0, false
	c.updateBusyLocked()
}

// takeError reports (once) a flush failure not reported yet.
func (c *coalescer) takeError() error {
	if !c.busy.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == 0 {
		return nil
	}
	return c.takeErrorLocked()
}

// deferShutdown flushes and, when bytes remain, leaves the shutdown to the
// flusher. It reports whether it did so.
func (c *coalescer) deferShutdown(flags tcpip.ShutdownFlags) bool {
	if flags&tcpip.ShutdownWrite == 0 {
		return false
	}
	left := c.flush()
	c.mu.Lock()
	defer c.mu.Unlock()
	// Set whether deferred or not: a send racing with the caller's own
	// Shutdown must not start a new batch behind it. Not before a
	// connection exists: there shutdown fails and changes nothing.
	if canSend(c.so.endpoint()) {
		c.wshut = true
	}
	if !left || !c.running {
		return false
	}
	c.shutAfter |= flags
	return true
}

// deferClose flushes and, when bytes remain, leaves closing the endpoint to
// the flusher. It reports whether it did so.
func (c *coalescer) deferClose() bool {
	left := c.flush()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wshut = true
	if !left || !c.running {
		return false
	}
	c.closeAfter = true
	if c.kick != nil {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return true
}

// full says whether a send would be refused now (poll's writability).
// A caller told "full" may now wait for room without ever having been
// refused, so it is woken as a refused writer is.
func (c *coalescer) full() bool {
	if !c.busy.Load() {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wshut || !c.stalled || c.pending == nil || len(*c.pending) < c.bound() {
		return false // after shutdown a send fails at once: writable, as on Linux
	}
	c.refused = true
	return true
}

// bufferedBytes: bytes accepted and not yet handed to gVisor (a batch
// being written is gVisor's already, or about to be).
func (c *coalescer) bufferedBytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		return 0
	}
	return len(*c.pending)
}
