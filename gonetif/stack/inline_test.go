package stack_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/internal/hostile"
	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/stack"
)

// inlineCounter is a TCP probe that sorts the segments an endpoint handled
// by the goroutine that handled them: the delivering one (the overlay's
// handleInline is on its stack) or one of gVisor's processors.
type inlineCounter struct{ inline, processor atomic.Int64 }

func (c *inlineCounter) probe(*tcp.TCPEndpointState) {
	buf := make([]byte, 16<<10)
	buf = buf[:runtime.Stack(buf, false)]
	switch {
	case bytes.Contains(buf, []byte("handleInline")):
		c.inline.Add(1)
	case bytes.Contains(buf, []byte("(*processor).start")):
		c.processor.Add(1)
	}
}

// inlineCable is two stacks on an in-memory cable, both with
// Options.TCPInline set to inline and a counting probe.
func inlineCable(t *testing.T, inline bool) (client, server *gonetif.Stack, sAddr netip.Addr, cc, sc *inlineCounter) {
	t.Helper()
	p := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x04\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x04\x02"), 0)
	cc, sc = &inlineCounter{}, &inlineCounter{}
	cAddr, sAddr := netip.MustParseAddr("10.7.4.1"), netip.MustParseAddr("10.7.4.2")
	client, server = cableStacks(t, stack.Options{TCPInline: inline, TCPProbe: cc.probe},
		stack.Options{TCPInline: inline, TCPProbe: sc.probe}, p.A, p.B, cAddr, sAddr, p.Close)
	if got := stack.TCPInline(client.Gvisor()); got != inline {
		t.Fatalf("stack.TCPInline = %v, want %v", got, inline)
	}
	return client, server, sAddr, cc, sc
}

// echoServer accepts connections on s at addr and echoes each until EOF.
func echoServer(t *testing.T, s *gonetif.Stack, addr netip.AddrPort) {
	t.Helper()
	l, err := s.ListenTCP(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go hostile.ServeEcho(l)
}

// roundTrips writes and reads back n messages of size bytes on a new
// connection to addr.
func roundTrips(t *testing.T, s *gonetif.Stack, addr netip.AddrPort, n, size int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	c, err := s.DialTCP(ctx, addr)
	cancel()
	if err != nil {
		return err
	}
	defer c.Close()
	out, in := make([]byte, size), make([]byte, size)
	for i := 0; i < n; i++ {
		for j := range out {
			out[j] = byte(i + j)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(out); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, in); err != nil {
			return err
		}
		if !bytes.Equal(in, out) {
			return errors.New("echo differs from what was sent")
		}
	}
	return nil
}

// TestTCPInline: with Options.TCPInline the segments of an established
// connection are handled by the goroutine that delivered them (here the
// cable's), without it all by gVisor's processors. Built without the
// overlay, New fails with ErrNoInline and so does this test.
func TestTCPInline(t *testing.T) {
	for _, inline := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[inline], func(t *testing.T) {
			client, server, sAddr, cc, sc := inlineCable(t, inline)
			addr := netip.AddrPortFrom(sAddr, 80)
			echoServer(t, server, addr)
			const trips = 200
			if err := roundTrips(t, client, addr, trips, 1); err != nil {
				t.Fatal(err)
			}
			for side, c := range map[string]*inlineCounter{"client": cc, "server": sc} {
				in, proc := c.inline.Load(), c.processor.Load()
				t.Logf("%s: %d segments handled inline, %d by a processor", side, in, proc)
				if in+proc < trips {
					t.Fatalf("%s: %d segments seen by the probe, want at least %d", side, in+proc, trips)
				}
				if !inline && in != 0 {
					t.Fatalf("%s: %d segments handled inline with the switch off", side, in)
				}
				// The server's reader may hold the socket when a request
				// lands (then the processor takes it); most are inline.
				if inline && in < 3*(in+proc)/4 {
					t.Fatalf("%s: only %d of %d segments handled inline", side, in, in+proc)
				}
			}
		})
	}
}

// TestTCPInlineReset: a RST handled inline closes the endpoint, which
// unregisters it from gVisor's demuxer, which takes the lock the demuxer
// held while delivering; the overlay releases that lock first. Without
// that edit the cable's goroutine deadlocks and the client never sees the
// reset.
func TestTCPInlineReset(t *testing.T) {
	client, server, sAddr, cc, _ := inlineCable(t, true)
	addr := netip.AddrPortFrom(sAddr, 81)
	l, err := server.ListenTCP(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan struct{})
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		// Close once the request is in, unread: Linux and gVisor answer
		// with a RST.
		buf := make([]byte, 1)
		c.Read(buf)
		<-accepted
		c.Close()
	}()
	for i := 0; i < 5; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := client.DialTCP(ctx, addr)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		// Unread bytes at the server's close make it reset.
		if _, err := c.Write(make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		before := cc.inline.Load()
		accepted <- struct{}{}
		_, err = io.ReadAll(c)
		c.Close()
		if err == nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			t.Fatalf("connection %d: read after the server's reset: %v, want a reset", i, err)
		}
		t.Logf("connection %d: %v (%d segments inline)", i, err, cc.inline.Load()-before)
		if i < 4 {
			go func() {
				c, err := l.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 1)
				c.Read(buf)
				<-accepted
				c.Close()
			}()
		}
	}
	// The stacks still work.
	echoServer(t, server, netip.AddrPortFrom(sAddr, 82))
	if err := roundTrips(t, client, netip.AddrPortFrom(sAddr, 82), 10, 100); err != nil {
		t.Fatal(err)
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// TestTCPInlineLoopback: on the loopback interface a send delivers to the
// peer endpoint on the sender's goroutine, so inline processing nests (the
// peer's reply reaches the sender while it holds its own endpoint; that
// one falls back to a processor). Request/response, bulk both ways at once
// and closes must all finish, well within the bound, with data intact.
func TestTCPInlineLoopback(t *testing.T) {
	s, err := gonetif.New(stack.Options{TCPInline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 90)
	echoServer(t, s, addr)
	done := make(chan error, 4)
	go func() { done <- roundTrips(t, s, addr, 500, 1) }()
	go func() { done <- roundTrips(t, s, addr, 50, 64<<10) }()
	go func() { done <- roundTrips(t, s, addr, 50, 64<<10) }()
	go func() {
		var err error
		for i := 0; i < 50 && err == nil; i++ { // connect, echo, close
			err = roundTrips(t, s, addr, 1, 10)
		}
		done <- err
	}()
	timeout := time.After(60 * time.Second)
	for i := 0; i < cap(done); i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-timeout:
			t.Fatal("loopback traffic stuck for 60 s: inline processing deadlocked")
		}
	}
}

// notifierStack records the stack of the goroutine that first signals one
// of mask's events on a gVisor waiter queue.
type notifierStack struct {
	once  atomic.Bool
	stack atomic.Value // string
	done  chan struct{}
}

func watchNotifier(wq *waiter.Queue, mask waiter.EventMask) *notifierStack {
	n := &notifierStack{done: make(chan struct{})}
	e := waiter.NewFunctionEntry(mask, func(waiter.EventMask) {
		if n.once.Swap(true) {
			return
		}
		buf := make([]byte, 16<<10)
		n.stack.Store(string(buf[:runtime.Stack(buf, false)]))
		close(n.done)
	})
	wq.EventRegister(&e)
	return n
}

// handledBy names who ran the code that signalled: the delivering
// goroutine (handleInline) or a processor.
func (n *notifierStack) handledBy(t *testing.T) string {
	t.Helper()
	select {
	case <-n.done:
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	s := n.stack.Load().(string)
	switch {
	case strings.Contains(s, "handleInline"):
		return "inline"
	case strings.Contains(s, "(*processor).start"):
		return "processor"
	}
	t.Logf("signalled from:\n%s", s)
	return "other"
}

// TestTCPInlineHandshake: with Options.TCPInline the handshake's segments
// are handled by the delivering goroutine too: the client's SYN-ACK (the
// connecting endpoint is told it is writable) and the server's final ACK
// (the listener is told a connection is ready to accept); without it, by a
// processor.
func TestTCPInlineHandshake(t *testing.T) {
	for _, inline := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[inline], func(t *testing.T) {
			client, server, sAddr, _, _ := inlineCable(t, inline)
			want := map[bool]string{false: "processor", true: "inline"}[inline]
			var lq waiter.Queue
			l, err := server.Gvisor().NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &lq)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if err := l.Bind(tcpip.FullAddress{Port: 83}); err != nil {
				t.Fatal(err)
			}
			if err := l.Listen(4); err != nil {
				t.Fatal(err)
			}
			accepted := watchNotifier(&lq, waiter.ReadableEvents)
			// A SYN-ACK that meets the endpoint locked (Connect still
			// returning) falls back to the processor, as it should: with
			// the switch on, one of three must go inline (none does
			// without the handshake edit); with it off, none may.
			inlined := 0
			for conn := 0; conn < 3; conn++ {
				var cq waiter.Queue
				c, err := client.Gvisor().NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &cq)
				if err != nil {
					t.Fatal(err)
				}
				connected := watchNotifier(&cq, waiter.WritableEvents)
				err = c.Connect(tcpip.FullAddress{Addr: tcpip.AddrFrom4(sAddr.As4()), Port: 83})
				if _, started := err.(*tcpip.ErrConnectStarted); !started {
					c.Close()
					t.Fatalf("connect: %v, want it started", err)
				}
				got := connected.handledBy(t)
				c.Close()
				if got == "inline" {
					inlined++
				}
				if !inline && got != want {
					t.Fatalf("connection %d: the SYN-ACK was handled by %s, want %s", conn, got, want)
				}
			}
			if inline && inlined == 0 {
				t.Fatalf("no SYN-ACK of 3 was handled inline")
			}
			if got := accepted.handledBy(t); got != want {
				t.Fatalf("the handshake's last ACK was handled by %s, want %s", got, want)
			}
		})
	}
}

// TestTCPInlineBulkFlag: handleInline tells bulk transfer without the
// endpoint's lock, from the sender's unsentQueued flag. The flag must be
// set while written data waits unsent (the server does not read: the
// window closes) and clear once it has all gone out and been read; if it
// stuck at false, bulk ACKs would be handled inline, if at true, nothing
// would. The bulk segments themselves stay on the processor.
func TestTCPInlineBulkFlag(t *testing.T) {
	client, server, sAddr, cc, sc := inlineCable(t, true)
	addr := netip.AddrPortFrom(sAddr, 84)
	l, err := server.ListenTCP(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	release := make(chan struct{})
	got := make(chan int64, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		<-release
		n, _ := io.Copy(io.Discard, c)
		got <- n
	}()
	var wq waiter.Queue
	gep, terr := client.Gvisor().NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		t.Fatal(terr)
	}
	ep := gep.(*tcp.Endpoint)
	connected := watchNotifier(&wq, waiter.WritableEvents)
	if err := gep.Connect(tcpip.FullAddress{Addr: tcpip.AddrFrom4(sAddr.As4()), Port: 84}); err != nil {
		if _, started := err.(*tcpip.ErrConnectStarted); !started {
			t.Fatalf("connect: %v", err)
		}
	}
	connected.handledBy(t)
	if err := gep.LastError(); err != nil {
		t.Fatalf("connect: %v", err)
	}
	c := gonet.NewTCPConn(&wq, gep)
	if ep.UnsentQueued() {
		t.Fatal("unsentQueued set on a new connection")
	}
	const total = 8 << 20
	wrote := make(chan error, 1)
	go func() {
		c.SetWriteDeadline(time.Now().Add(20 * time.Second))
		_, err := c.Write(make([]byte, total))
		wrote <- err
	}()
	// With the server not reading, the window closes and data waits.
	deadline := time.Now().Add(5 * time.Second)
	for !ep.UnsentQueued() {
		if time.Now().After(deadline) {
			t.Fatal("unsentQueued never set while the peer's window was closed")
		}
		time.Sleep(time.Millisecond)
	}
	inBulk := sc.inline.Load()
	close(release)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	c.Close()
	if n := <-got; n != total {
		t.Fatalf("server read %d bytes, want %d", n, total)
	}
	// The sender clears the flag just after its last segment (the FIN)
	// has gone out, and over the in-memory cable the server may read that
	// FIN first: under -race it did. So the flag has a moment to clear.
	for deadline := time.Now().Add(5 * time.Second); ep.UnsentQueued(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("unsentQueued still set 5 s after all data was sent and read")
		}
	}
	sIn, sProc := sc.inline.Load()-inBulk, sc.processor.Load()
	cIn, cProc := cc.inline.Load(), cc.processor.Load()
	t.Logf("server (bulk receiver): %d segments inline, %d by a processor; client (sender): %d inline, %d by a processor", sIn, sProc, cIn, cProc)
	if sIn*4 > sProc {
		t.Fatalf("receiver handled %d bulk segments inline (%d on the processor): full-sized segments must stay on the processor", sIn, sProc)
	}
}
