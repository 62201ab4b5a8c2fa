package socket

import (
	"errors"
	"math"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"
)

// How a call that may block works, for Go and C callers alike.
//
// Each blocking operation has a step (ConnectStep, AcceptStep, SendStep,
// RecvStep, LingerStep) that makes one attempt and either finishes or
// returns ErrWait. With ErrWait the step has filled in Call.Seq and
// Call.Until: the caller waits until the socket's wait word differs from
// Seq or the monotonic clock passes Until, then calls the same step again
// with the same Call. The step keeps the call's progress (its deadline,
// the bytes moved so far) in the Call, so a deadline is computed once per
// call, however often the caller is woken. Go's blocking methods (Connect,
// Accept, Send, Recv, Close) run this loop on a goroutine; C callers run
// it on their own thread (capi), so a blocked C thread never sits in Go.

// ErrWait is a step's answer "wait as the Call says, then step again".
var ErrWait = errors.New("socket: wait for the wait word, then call again")

// Call is one blocking call across its attempts; zero before the first.
type Call struct {
	// Kept by the steps between attempts; callers only carry them.
	Deadline int64 // monotonic ns when the call gives up; 0: not set yet; < 0: none
	Done     int   // bytes already moved (stream send, MSG_WAITALL)
	Phase    int   // the step's own progress (connect started, close lingering)

	// The wait asked for with ErrWait.
	Seq   uint32 // wait while the wait word still holds this value
	Until int64  // monotonic ns (CLOCK_MONOTONIC); 0: no limit
	// Wait for this descriptor's readability too (its number + 1; 0:
	// none), then call ReceiveInline before the step (rtc.go).
	PollFd int
}

// BrokenPipe is the error of a send on a stream that can no longer send
// when the caller did not pass MSG_NOSIGNAL: EPIPE, and Linux also raises
// SIGPIPE. The caller decides whether to raise it (the C side does, unless
// built for IDF, whose lwIP raises none). errors.Is(err, unix.EPIPE) holds.
type BrokenPipe struct{}

func (BrokenPipe) Error() string { return "broken pipe (SIGPIPE)" }
func (BrokenPipe) Unwrap() error { return unix.EPIPE }

// lingerPoll bounds one wait of a lingering close: not every change of
// the FIN's state is signalled, so the state is looked at again.
const lingerPoll = 20 * time.Millisecond

// blocking is a socket's waiting state: the O_NONBLOCK flag, SO_RCVTIMEO
// and SO_SNDTIMEO, and the wait word bumped on every readiness change.
type blocking struct {
	nonblock   atomic.Bool
	rcvTimeout atomic.Int64 // ns, 0: wait forever
	sndTimeout atomic.Int64
	ownWord    uint32
	word       atomic.Pointer[uint32]
}

// MonoNow is the monotonic clock in ns, CLOCK_MONOTONIC's value, the
// clock of Call.Deadline and Call.Until.
func MonoNow() int64 { return monoBase + int64(time.Since(monoStart)) }

// Go's monotonic time is CLOCK_MONOTONIC on Linux: one sample at start
// relates the two, without a system call per reading. The sample is taken
// between two Go readings, the tightest of a few: an offset makes a C
// caller whose deadline has come find Go's clock short of it, and spin
// until the two agree (one unbracketed read was 800 ns off; a preempted
// one could be milliseconds off).
var monoStart, monoBase = func() (time.Time, int64) {
	var start time.Time
	var base int64
	best := time.Duration(math.MaxInt64)
	for range 16 {
		var ts unix.Timespec
		t0 := time.Now()
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
		t1 := time.Now()
		if gap := t1.Sub(t0); gap < best {
			best, start, base = gap, t0.Add(gap/2), ts.Nano()
		}
	}
	return start, base
}()

// SetWaitWord makes p the socket's wait word (a C caller's wait slot, so
// C threads can sleep on it); nil goes back to the socket's own.
func (so *Socket) SetWaitWord(p *uint32) {
	if p == nil {
		p = &so.blk.ownWord
	}
	so.blk.word.Store(p)
}

func (so *Socket) seqNow() uint32 { return atomic.LoadUint32(so.blk.word.Load()) }

func (so *Socket) bumpWord() { atomic.AddUint32(so.blk.word.Load(), 1) }

// SetNonblock sets O_NONBLOCK: a step that would wait answers EAGAIN
// (EINPROGRESS for connect) instead.
func (so *Socket) SetNonblock(on bool) { so.blk.nonblock.Store(on) }

// Nonblock reports O_NONBLOCK.
func (so *Socket) Nonblock() bool { return so.blk.nonblock.Load() }

// prepareWait fills c for a wait on seq, bounded by timeout (0: none)
// from the call's first wait. False when the deadline has passed.
func prepareWait(c *Call, seq uint32, timeout int64) bool {
	now := MonoNow()
	if c.Deadline == 0 {
		c.Deadline = -1
		if timeout > 0 {
			c.Deadline = now + timeout
		}
	}
	if c.Deadline > 0 && now >= c.Deadline {
		return false
	}
	c.Seq, c.Until = seq, max(c.Deadline, 0)
	return true
}

// ConnectStep is connect(2): a blocking connect waits for the handshake,
// SO_SNDTIMEO bounds it and then reports EINPROGRESS, as Linux does.
func (so *Socket) ConnectStep(c *Call, addr tcpip.FullAddress) error {
	seq := so.seqNow()
	if c.Phase == 0 {
		err := so.connectOnce(addr)
		if err != unix.EINPROGRESS || so.Nonblock() {
			return err
		}
		c.Phase = 1
	} else if err := so.ConnectResult(); err != unix.EINPROGRESS {
		return err
	}
	if !prepareWait(c, seq, so.blk.sndTimeout.Load()) {
		return unix.EINPROGRESS
	}
	return ErrWait
}

// AcceptStep is accept(2), bounded by SO_RCVTIMEO (then EAGAIN).
func (so *Socket) AcceptStep(c *Call) (*Socket, tcpip.FullAddress, error) {
	seq := so.seqNow()
	nso, peer, err := so.acceptOnce()
	if err == unix.EAGAIN && !so.Nonblock() && prepareWait(c, seq, so.blk.rcvTimeout.Load()) {
		return nil, peer, ErrWait
	}
	return nso, peer, err
}

// SendStep is send(2)/sendto(2). A blocking stream send returns only when
// all of b is queued (or the send timeout passed, or an error came after
// some bytes: then the count); a non-blocking one, or a datagram, sends
// what fits now. The EPIPE of a stream is BrokenPipe unless NoSignal.
func (so *Socket) SendStep(c *Call, b []byte, to *tcpip.FullAddress, flags SendFlags) (int, error) {
	nonblock := flags.DontWait || so.Nonblock()
	stream := so.Type == unix.SOCK_STREAM
	for {
		seq := so.seqNow()
		n, err := so.sendOnce(b[c.Done:], to, flags)
		if n > 0 || err == nil {
			c.Done += n
			if c.Done == len(b) || nonblock || !stream {
				return c.Done, nil
			}
			continue
		}
		if err == unix.EAGAIN && !nonblock && prepareWait(c, seq, so.blk.sndTimeout.Load()) {
			return c.Done, ErrWait
		}
		if c.Done > 0 {
			return c.Done, nil
		}
		if err == unix.EPIPE && stream && !flags.NoSignal {
			return 0, BrokenPipe{}
		}
		return 0, err
	}
}

// RecvStep is recv(2)/recvfrom(2), bounded by SO_RCVTIMEO (then EAGAIN).
// With WaitAll a blocking stream receive fills all of b unless the peer
// closes, an error comes or the timeout passes (then what it has).
func (so *Socket) RecvStep(c *Call, b []byte, flags RecvFlags) (RecvResult, error) {
	nonblock := flags.DontWait || so.Nonblock()
	waitAll := flags.WaitAll && so.Type == unix.SOCK_STREAM && !flags.Peek && !nonblock
	flags.DontWait = nonblock
	for {
		seq := so.seqNow()
		res, err := so.recvOnce(b[c.Done:], flags)
		if err == nil && res.N > 0 && waitAll && c.Done+res.N < len(b) {
			c.Done += res.N
			continue
		}
		if err == nil {
			res.N += c.Done
			res.Total += c.Done
			return res, nil
		}
		if err == unix.EAGAIN && !nonblock && prepareWait(c, seq, so.blk.rcvTimeout.Load()) {
			return RecvResult{N: c.Done}, ErrWait
		}
		if c.Done > 0 {
			return RecvResult{N: c.Done, Total: c.Done}, nil
		}
		return res, err
	}
}

// LingerStep is the wait of close(2) with SO_LINGER on and a time: the FIN
// is sent and the close waits until it is acknowledged or the time is up,
// as Linux's does. nil when the socket may be released now.
func (so *Socket) LingerStep(c *Call) error {
	seq := so.seqNow()
	now := MonoNow()
	if c.Phase == 0 {
		l := so.endpoint().SocketOptions().GetLinger()
		if so.Type != unix.SOCK_STREAM || !l.Enabled || l.Timeout <= 0 || !so.FinPending() {
			return nil
		}
		_ = so.Shutdown(unix.SHUT_WR)
		c.Phase, c.Deadline = 1, now+int64(l.Timeout)
	} else if !so.FinPending() {
		return nil
	}
	if now >= c.Deadline {
		return nil
	}
	c.Seq, c.Until = seq, min(now+int64(lingerPoll), c.Deadline)
	return ErrWait
}

// await is a Go caller's wait for c: until the wait word moves past c.Seq
// or the clock passes c.Until.
func (so *Socket) await(c *Call) {
	entry, ch := waiter.NewChannelEntry(allEvents)
	so.wq.EventRegister(&entry)
	defer so.wq.EventUnregister(&entry)
	if so.seqNow() != c.Seq {
		return
	}
	var timeout <-chan time.Time
	if c.Until > 0 {
		left := c.Until - MonoNow()
		if left <= 0 {
			return
		}
		t := time.NewTimer(time.Duration(left))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ch:
	case <-timeout:
	}
}

// Connect is connect(2) with Linux's blocking rules: a blocking socket
// waits for the handshake (bounded by SO_SNDTIMEO, then EINPROGRESS); a
// non-blocking one returns EINPROGRESS, and the next Connect the outcome.
// An AF_UNSPEC address should go to Disconnect.
func (so *Socket) Connect(addr tcpip.FullAddress) error {
	var c Call
	for {
		err := so.ConnectStep(&c, addr)
		if err != ErrWait {
			return err
		}
		so.await(&c)
	}
}

// Accept is accept(2): it waits for a connection unless non-blocking,
// bounded by SO_RCVTIMEO (then EAGAIN). The new socket is blocking.
func (so *Socket) Accept() (*Socket, tcpip.FullAddress, error) {
	var c Call
	for {
		nso, peer, err := so.AcceptStep(&c)
		if err != ErrWait {
			return nso, peer, err
		}
		so.await(&c)
	}
}

// Send is send(2)/sendto(2) with Linux's blocking rules (see SendStep).
func (so *Socket) Send(b []byte, to *tcpip.FullAddress, flags SendFlags) (int, error) {
	var c Call
	for {
		n, err := so.SendStep(&c, b, to, flags)
		if err != ErrWait {
			return n, err
		}
		so.await(&c)
	}
}

// Recv is recv(2)/recvfrom(2) with Linux's blocking rules (see RecvStep).
// A stream whose peer closed returns N == 0 with EOF set.
func (so *Socket) Recv(b []byte, flags RecvFlags) (RecvResult, error) {
	var c Call
	for {
		res, err := so.RecvStep(&c, b, flags)
		if err != ErrWait {
			return res, err
		}
		so.await(&c)
	}
}

// Close is close(2): with SO_LINGER on and a time it first waits for the
// FIN to be acknowledged (at most that time), then releases the endpoint.
func (so *Socket) Close() error {
	var c Call
	for so.LingerStep(&c) == ErrWait {
		so.await(&c)
	}
	return so.Release()
}

// MaxIOV is Linux's UIO_MAXIOV: longer I/O vectors are refused (readv and
// writev: EINVAL, sendmsg and recvmsg: EMSGSIZE).
const MaxIOV = 1024
