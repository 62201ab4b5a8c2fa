package socket_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// futex(2) operations with FUTEX_PRIVATE_FLAG; x/sys does not name them.
const (
	futexWaitPrivate = 0 | 128
	futexWakePrivate = 1 | 128
)

// cSlot plays the C side of the wait protocol (capi's wait slot, notifier
// and gonetif_port_wait in futex.c): a wait word the socket bumps, a count
// of sleepers, a futex wake when someone sleeps, and an absolute deadline
// in whole microseconds of CLOCK_MONOTONIC rounded up, as C gets it.
type cSlot struct {
	seq, waiters uint32
	waits        atomic.Int64
	// missed counts waits that ran out their time although the word had
	// moved past Seq by then: a bump whose wake did not reach the sleeper.
	missed atomic.Int64
}

func attachCSlot(so *socket.Socket) *cSlot {
	s := new(cSlot)
	so.SetWaitWord(&s.seq)
	so.SetNotify(func(waiter.EventMask) {
		if atomic.LoadUint32(&s.waiters) != 0 {
			unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&s.seq)), futexWakePrivate, math.MaxInt32, 0, 0, 0)
		}
	})
	return s
}

func (s *cSlot) wait(c *socket.Call) {
	s.waits.Add(1)
	var tsp *unix.Timespec
	if c.Until > 0 {
		untilUS := (c.Until + 999) / 1000
		var now unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &now)
		left := untilUS*1000 - now.Nano()
		if left <= 0 {
			return
		}
		ts := unix.NsecToTimespec(left)
		tsp = &ts
	}
	atomic.AddUint32(&s.waiters, 1)
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&s.seq)), futexWaitPrivate, uintptr(c.Seq),
		uintptr(unsafe.Pointer(tsp)), 0, 0)
	atomic.AddUint32(&s.waiters, ^uint32(0))
	if errno == unix.ETIMEDOUT && tsp != nil && tsp.Nano() > int64(stallLimit) && atomic.LoadUint32(&s.seq) != c.Seq {
		s.missed.Add(1)
	}
}

// waitEnd is one end of a stressed connection: blocking calls made the C
// way (steps and a futex wait) or the Go way (Socket.Send/Recv).
type waitEnd struct {
	so   *socket.Socket
	slot *cSlot // nil: the Go way
}

// asleep is how long a blocking call slept without being woken: for a C
// end the longest single futex wait (a call woken many times that finds
// no room yet is TCP being slow, not a lost wake-up), for a Go end the
// whole call, whose waits it cannot see.
type asleep struct {
	longest time.Duration
	waits   int
}

func (a *asleep) wait(s *cSlot, c *socket.Call) {
	start := time.Now()
	s.wait(c)
	a.longest = max(a.longest, time.Since(start))
	a.waits++
}

func (e waitEnd) send(b []byte) (int, asleep, error) {
	if e.slot == nil {
		start := time.Now()
		n, err := e.so.Send(b, nil, socket.SendFlags{NoSignal: true})
		return n, asleep{longest: time.Since(start)}, err
	}
	var c socket.Call
	var a asleep
	for {
		n, err := e.so.SendStep(&c, b, nil, socket.SendFlags{NoSignal: true})
		if err != socket.ErrWait {
			return n, a, err
		}
		a.wait(e.slot, &c)
	}
}

func (e waitEnd) recv(b []byte) (int, asleep, error) {
	if e.slot == nil {
		start := time.Now()
		res, err := e.so.Recv(b, socket.RecvFlags{})
		return res.N, asleep{longest: time.Since(start)}, err
	}
	var c socket.Call
	var a asleep
	for {
		res, err := e.so.RecvStep(&c, b, socket.RecvFlags{})
		if err != socket.ErrWait {
			return res.N, a, err
		}
		a.wait(e.slot, &c)
	}
}

// stressTimeout bounds every blocking call. The peers never pause for
// more than a few ms, so a call that runs out of it missed a wake-up.
// Under the race detector on two busy cores a flow can need seconds for
// 10 KB though each of its waits is woken (see stallLimit), so the bound
// is wider there; stallLimit still catches a sleeper left asleep.
var stressTimeout = func() time.Duration {
	if raceEnabled {
		return 10 * time.Second
	}
	return 2 * time.Second
}()

// stallLimit: a call that sleeps this long at once, though it succeeds
// in the end, was left asleep while it could have gone on. (A C-style
// call woken again and again that still finds no room is TCP being slow
// under load, as the race detector on two busy cores makes it: 14-79
// wake-ups over 1-2 s, no wait above 0.31 s, no frame dropped.)
const stallLimit = time.Second

// Many threads doing blocking send and receive with timeouts on several
// connections, with jittered small writes, slow readers and small buffers
// (so sends wait for room and the coalescer's full-buffer path runs). A
// call that times out while its peer keeps the stream moving fails: a
// receive with bytes queued, or a send with room, is a lost wake-up.
func TestWakeupStress(t *testing.T) {
	const (
		pairs    = 8
		runFor   = 3 * time.Second
		maxBytes = 12 << 20 // per direction, bounds the run on a fast machine
	)
	perFlow := maxBytes
	if raceEnabled {
		perFlow = maxBytes / 12
	}
	n := testnet.New(t)
	ln := blockingSocket(t, n, true, unix.SOCK_STREAM)
	if err := ln.Bind(addr(ipB, 5400)); err != nil {
		t.Fatal(err)
	}
	if err := ln.Listen(pairs); err != nil {
		t.Fatal(err)
	}
	type flow struct {
		name     string
		from, to waitEnd
	}
	var flows []flow
	var slots []*cSlot
	for i := range pairs {
		cli := blockingSocket(t, n, false, unix.SOCK_STREAM)
		cli.SetSendCoalesce(i%4 != 3) // on by default in descriptor tables
		if err := cli.Connect(addr(ipB, 5400)); err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
		srv, _, err := ln.Accept()
		if err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
		t.Cleanup(func() { srv.Release() })
		srv.SetSendCoalesce(i%4 != 3)
		mode := "c"
		if i%2 == 1 {
			mode = "go"
		}
		ends := [2]waitEnd{{so: cli}, {so: srv}}
		for k, so := range []*socket.Socket{cli, srv} {
			if i%4 < 2 { // small buffers: senders wait for room
				if err := so.SetOptionInt(unix.SOL_SOCKET, unix.SO_SNDBUF, 8192); err != nil {
					t.Fatal(err)
				}
				// Not smaller: below a segment's worth of window (the
				// cable's MTU is 64 KiB) TCP waits for its persist timer,
				// a stall of 1-2 s that is TCP's, not the wait protocol's.
				if err := so.SetOptionInt(unix.SOL_SOCKET, unix.SO_RCVBUF, 32768); err != nil {
					t.Fatal(err)
				}
			}
			for _, opt := range []int{unix.SO_RCVTIMEO, unix.SO_SNDTIMEO} {
				if err := so.SetOption(unix.SOL_SOCKET, opt, timeval(stressTimeout)); err != nil {
					t.Fatal(err)
				}
			}
			if mode == "c" {
				ends[k].slot = attachCSlot(so)
				slots = append(slots, ends[k].slot)
			}
		}
		flows = append(flows,
			flow{fmt.Sprintf("pair %d (%s) A->B", i, mode), ends[0], ends[1]},
			flow{fmt.Sprintf("pair %d (%s) B->A", i, mode), ends[1], ends[0]})
	}

	stop := time.Now().Add(runFor)
	errs := make(chan error, 2*len(flows))
	var wg sync.WaitGroup
	var moved atomic.Int64
	for fi, f := range flows {
		// One direction per flow: each pair carries two, so a receiver's
		// wake-ups mix data with the ACKs and room of the other direction.
		sentAll := make(chan int, 1)
		wg.Add(2)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(fi), 1))
			data := pattern(64 << 10)
			sent := 0
			defer func() { sentAll <- sent; f.from.so.Shutdown(unix.SHUT_WR) }()
			for time.Now().Before(stop) && sent < perFlow {
				size := 1 + r.IntN(300)
				if r.IntN(16) == 0 {
					size = 4096 + r.IntN(8192) // a burst that fills small buffers
				}
				off := sent % (len(data) - size)
				start := time.Now()
				got, slept, err := f.from.send(data[off : off+size])
				sent += got
				if err != nil {
					room := f.from.so.Readiness(socket.EventOut) != 0
					errs <- fmt.Errorf("%s: send of %d after %d bytes: %v after %v (writable now: %v)",
						f.name, size, sent, err, time.Since(start).Round(time.Millisecond), room)
					return
				}
				if took := time.Since(start); slept.longest > stallLimit {
					room := f.from.so.Readiness(socket.EventOut) != 0
					queued, _ := f.to.so.ReceiveQueued()
					errs <- fmt.Errorf("%s: blocking send of %d after %d bytes took %v, slept %v at once (%d waits), took %d (buffered in the coalescer: %d, writable now: %v, queued at the peer: %d, frames the cable dropped: %d, %s)",
						f.name, size, sent, took.Round(time.Millisecond), slept.longest.Round(time.Millisecond), slept.waits, got, socket.SendBuffered(f.from.so), room, queued, n.Pair.Dropped(), tcpLossStats(n))
					return
				}
				if got != size {
					errs <- fmt.Errorf("%s: blocking send took %d of %d", f.name, got, size)
					return
				}
				if r.IntN(4) == 0 {
					time.Sleep(time.Duration(r.IntN(300)) * time.Microsecond)
				}
			}
		}()
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(fi), 2))
			buf := make([]byte, 2048)
			got := 0
			for {
				start := time.Now()
				m, slept, err := f.to.recv(buf[:1+r.IntN(len(buf))])
				if err != nil {
					queued, _ := f.to.so.ReceiveQueued()
					errs <- fmt.Errorf("%s: recv after %d bytes: %v after %v (bytes queued now: %d)",
						f.name, got, err, time.Since(start).Round(time.Millisecond), queued)
					return
				}
				if took := time.Since(start); slept.longest > stallLimit {
					errs <- fmt.Errorf("%s: blocking recv after %d bytes took %v, slept %v at once (%d waits)", f.name, got, took.Round(time.Millisecond), slept.longest.Round(time.Millisecond), slept.waits)
					return
				}
				if m == 0 {
					break // the sender's shutdown
				}
				got += m
				moved.Add(int64(m))
				if r.IntN(64) == 0 {
					time.Sleep(time.Duration(r.IntN(5)) * time.Millisecond) // a slow reader
				}
			}
			if sent := <-sentAll; sent != got {
				errs <- fmt.Errorf("%s: %d bytes sent, %d received", f.name, sent, got)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(runFor + 4*stressTimeout):
		t.Fatal("the stress run did not end in time: a call hangs")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var waits int64
	for _, s := range slots {
		waits += s.waits.Load()
		if m := s.missed.Load(); m > 0 {
			t.Errorf("%d wait(s) timed out with the wait word already moved: a lost wake-up", m)
		}
	}
	t.Logf("%d bytes moved, %d futex waits by the C-style ends", moved.Load(), waits)
	if waits < 100 {
		t.Errorf("only %d futex waits: the run did not exercise the wait protocol", waits)
	}
}

// tcpLossStats sums, over both stacks, what tells TCP's own recovery from
// a missed wake-up: retransmissions, timeouts and segments a busy
// endpoint's segment queue turned away (gVisor counts them in
// DroppedPackets).
func tcpLossStats(n *testnet.Net) string {
	var rexmit, rto, queueDrops uint64
	for _, st := range []*gonetif.Stack{n.A, n.B} {
		tcp := st.Gvisor().Stats().TCP
		rexmit += tcp.Retransmits.Value()
		rto += tcp.Timeouts.Value()
		queueDrops += st.Gvisor().Stats().DroppedPackets.Value()
	}
	return fmt.Sprintf("TCP retransmits %d, timeouts %d, packets the stacks dropped %d", rexmit, rto, queueDrops)
}
