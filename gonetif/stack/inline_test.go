package stack_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

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
