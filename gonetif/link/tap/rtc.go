package tap

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Caller reads (run-to-completion receive, GONETIF_TCP_RTC; docs/DESIGN.md
// D20): a thread about to block on a socket of
// this interface waits for the TAP itself and, when frames come, reads and
// delivers them on its own thread (DrainInline), so with inline TCP
// processing the segment reaches its socket without waking the reader
// goroutine, a processor goroutine or the blocked thread.
//
// Readers take turns: whoever reads (the reader goroutine or a caller)
// holds mu from readv through delivery, so frames reach the stack in
// the order the TAP gave them, and one drain goes on until EAGAIN. A
// caller that finds mu taken waits for it; the reader goroutine instead
// sets pending and parks, and the holder looks at pending after it lets
// go and drains again, so a frame that arrived between the holder's last
// EAGAIN and its unlock is not left in the queue.
//
// While callers wait, the reader goroutine stays away: a waiting caller
// asks it to yield (WaitFd), it closes its netpoller registration, so a
// frame wakes only the callers polling the TAP, and it comes back once no
// caller has begun a wait for readerAway (awayWhileCallersRead). Frames
// that come while nobody waits then wait for the next caller or for the
// reader's return, at most about twice readerAway.
type callerReads struct {
	on      atomic.Bool
	mu      sync.Mutex
	pending atomic.Bool
	rx      rxState // under mu: one set of views for every reader

	yield atomic.Bool   // callers asked the reader to stay away
	gen   atomic.Uint64 // waits begun; the reader comes back when it stops moving
	back  chan struct{} // wakes the away reader early (Close, Attach(nil))
}

// readerAway is how long the reader stays away after the last caller's
// wait began: longer than a request/response trip, short enough that
// frames for sockets nobody waits on are not held long.
const readerAway = time.Millisecond

// SetCallerReads turns caller reads on or off and reports whether they
// are on. Off (the default), the reader goroutine alone reads, exactly as
// without this file. Only the netpoll reader takes turns, so with
// Options.PollThread they stay off.
func (e *Endpoint) SetCallerReads(on bool) bool {
	on = on && e.netpoll
	e.cr.on.Store(on)
	return on
}

// CallerReads reports SetCallerReads.
func (e *Endpoint) CallerReads() bool { return e.cr.on.Load() }

// WaitFd begins a caller's wait: it returns the descriptor the caller
// polls for readability before it calls DrainInline, and has the reader
// goroutine yield the TAP to callers; -1 when caller reads are off or the
// endpoint is stopping (the caller then waits the ordinary way).
func (e *Endpoint) WaitFd() int {
	if !e.cr.on.Load() || e.closing.Load() || e.stopReader.Load() || e.dispatcher.Load() == nil {
		return -1
	}
	e.cr.gen.Add(1)
	if e.cr.yield.CompareAndSwap(false, true) {
		if f := e.pollFile.Load(); f != nil {
			_ = f.SetReadDeadline(time.Unix(1, 0)) // the reader looks at yield
		}
	}
	return e.fd
}

// awayWhileCallersRead is the reader goroutine's time away: it returns
// once no caller has begun a wait for readerAway (or the endpoint stops)
// and drains what came meanwhile.
func (e *Endpoint) awayWhileCallersRead() {
	if !e.cr.yield.Load() {
		return
	}
	t := time.NewTimer(readerAway)
	defer t.Stop()
	last := e.cr.gen.Load()
	for !e.closing.Load() && !e.stopReader.Load() {
		select {
		case <-t.C:
		case <-e.cr.back:
		}
		g := e.cr.gen.Load()
		if g == last {
			break
		}
		last = g
		t.Reset(readerAway)
	}
	e.cr.yield.Store(false)
	e.DrainInline()
}

// DrainInline reads and delivers every frame the TAP holds now on the
// calling goroutine. It returns the number of frames delivered. A caller
// that finds another reader draining waits for its turn rather than
// leave: back in ppoll(2) it would find the TAP still readable and spin
// until the other one is done.
func (e *Endpoint) DrainInline() int {
	if !e.cr.on.Load() {
		return 0
	}
	n := 0
	for {
		e.cr.mu.Lock()
		n += e.drainLocked()
		e.cr.mu.Unlock()
		if !e.cr.pending.Swap(false) {
			return n
		}
	}
}

// drainLocked reads until EAGAIN (or closing, or an error the reader
// goroutine will meet and report too). Holds cr.mu.
func (e *Endpoint) drainLocked() int {
	n := 0
	for !e.closing.Load() && !e.stopReader.Load() {
		got, errno, open := e.readOnce()
		if !open {
			return n
		}
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return n
		}
		e.deliver(&e.cr.rx, int(got))
		n++
	}
	return n
}

// readOnce is one readv into cr.rx under mu held shared, so Close does
// not close fd under it. Not across the delivery: that may write (an
// ACK), which takes mu shared again, and a Close waiting between the two
// would deadlock both (TestCallerReadsCloseWhileDraining).
func (e *Endpoint) readOnce() (n uintptr, errno unix.Errno, open bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return 0, 0, false
	}
	iov := e.cr.rx.prepare(e.vnet)
	n, _, errno = unix.RawSyscall(unix.SYS_READV, uintptr(e.fd),
		uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	return n, errno, true
}

// readTurn is the netpoll reader's read while caller reads are on: a
// readv under cr.mu. ok false: park until readable (EAGAIN, or a caller
// holds the turn and drains). With ok true the caller delivers and then
// calls endTurn.
func (e *Endpoint) readTurn(fd uintptr) (n uintptr, errno unix.Errno, ok bool) {
	if !e.cr.mu.TryLock() {
		e.cr.pending.Store(true)
		return 0, 0, false
	}
	iov := e.cr.rx.prepare(e.vnet)
	n, _, errno = unix.RawSyscall(unix.SYS_READV, fd,
		uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	if errno == unix.EAGAIN {
		e.endTurn()
		return 0, errno, false
	}
	if errno != 0 {
		e.endTurn()
	}
	return n, errno, true
}

// endTurn lets go of cr.mu; a reader that was turned away meanwhile left
// its frames to us, so drain them (DrainInline does, under the turn).
func (e *Endpoint) endTurn() {
	e.cr.mu.Unlock()
	if e.cr.pending.Swap(false) {
		e.DrainInline()
	}
}
