package socket_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// coalescedPair is a connected TCP pair on a fresh network; the client
// (on A) coalesces small sends.
func coalescedPair(t *testing.T, port uint16) (cli, srv *socket.Socket) {
	t.Helper()
	return coalescedPairBuf(t, port, 0, 0)
}

// coalescedPairBuf is coalescedPair with SO_RCVBUF and SO_SNDBUF (0: the
// default) set on both ends before the handshake. Set later, a smaller
// SO_RCVBUF makes gVisor's receiver drop data inside the window it had
// already offered, and the retransmission timeouts that follow can stall
// gVisor's sender for good (see TestGvisorTailProbeStall).
func coalescedPairBuf(t *testing.T, port uint16, rcvbuf, sndbuf int) (cli, srv *socket.Socket) {
	t.Helper()
	n := testnet.New(t)
	ln := mustSocket(t, n, true, unix.SOCK_STREAM)
	cli = mustSocket(t, n, false, unix.SOCK_STREAM)
	for _, so := range []*socket.Socket{ln, cli} {
		if rcvbuf > 0 {
			if err := so.SetOptionInt(unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf); err != nil {
				t.Fatal(err)
			}
		}
		if sndbuf > 0 {
			if err := so.SetOptionInt(unix.SOL_SOCKET, unix.SO_SNDBUF, sndbuf); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := ln.Bind(addr(ipB, port)); err != nil {
		t.Fatal(err)
	}
	if err := ln.Listen(4); err != nil {
		t.Fatal(err)
	}
	cli.SetSendCoalesce(true)
	if !cli.SendCoalesce() {
		t.Fatal("SetSendCoalesce(true) did not turn it on")
	}
	if err := cli.Connect(addr(ipB, port)); !errors.Is(err, unix.EINPROGRESS) {
		t.Fatalf("connect: %v", err)
	}
	wait(t, cli, uint64(socket.EventOut))
	if err := cli.ConnectResult(); err != nil {
		t.Fatal(err)
	}
	wait(t, ln, uint64(socket.EventIn))
	srv, _, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if rcvbuf > 0 {
		if got, _ := srv.OptionInt(unix.SOL_SOCKET, unix.SO_RCVBUF); got > 2*rcvbuf {
			t.Fatalf("accepted socket's SO_RCVBUF is %d, not the listener's %d", got, rcvbuf)
		}
	}
	return cli, srv
}

// sendAll sends b completely, waiting for writability as a blocking send does.
func sendAll(t *testing.T, so *socket.Socket, b []byte) {
	t.Helper()
	so.SetNonblock(true)
	deadline := time.Now().Add(10 * time.Second)
	for len(b) > 0 {
		n, err := so.Send(b, nil, socket.SendFlags{})
		b = b[n:]
		switch {
		case errors.Is(err, unix.EAGAIN):
			if so.Wait(socket.EventOut|socket.EventErr|socket.EventHUp, deadline) != nil {
				t.Fatal("send: no room within 10 s")
			}
		case err != nil:
			t.Fatalf("send: %v", err)
		}
	}
}

// readAll reads until EOF (or want bytes when want > 0), bounded in time.
func readAll(t *testing.T, so *socket.Socket, want int) []byte {
	t.Helper()
	// An accepted socket blocks (as on Linux): the loop waits itself, so
	// that the deadline bounds it.
	so.SetNonblock(true)
	var got []byte
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(20 * time.Second)
	for want <= 0 || len(got) < want {
		res, err := so.Recv(buf, socket.RecvFlags{})
		switch {
		case errors.Is(err, unix.EAGAIN):
			if so.Wait(socket.EventIn|socket.EventErr|socket.EventHUp, deadline) != nil {
				t.Fatalf("recv: stalled after %d bytes", len(got))
			}
			continue
		case err != nil:
			t.Fatalf("recv after %d bytes: %v", len(got), err)
		}
		if res.EOF {
			break
		}
		got = append(got, buf[:res.N]...)
	}
	return got
}

// pattern is n bytes that differ with their offset, so any reordering,
// loss or duplication shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func TestCoalesceOrderAcrossSizes(t *testing.T) {
	cli, srv := coalescedPair(t, 5101)
	const total = 3 << 20
	data := pattern(total)
	got := make(chan []byte, 1)
	go func() { got <- readAll(t, srv, total) }()
	r := rand.New(rand.NewPCG(1, 2))
	for off := 0; off < total; {
		n := 1 + r.IntN(100) // mostly small writes ...
		switch r.IntN(50) {
		case 0:
			n = 1000 + r.IntN(30000) // ... some larger than the buffer
		case 1:
			n = 900 + r.IntN(200) // around the small-write limit
		}
		n = min(n, total-off)
		sendAll(t, cli, data[off:off+n])
		off += n
	}
	if err := cli.Shutdown(unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("received %d bytes, not the %d sent in order", len(b), total)
	}
}

func TestCoalesceBuffersWhileNagleHolds(t *testing.T) {
	cli, srv := coalescedPair(t, 5102)
	// The first small send goes to gVisor, the next ones stream into the
	// buffer, which is held here: the sends complete, nothing leaves.
	sendAll(t, cli, []byte("a"))
	if got := readAll(t, srv, 1); string(got) != "a" {
		t.Fatalf("got %q", got)
	}
	sendAll(t, cli, []byte("b"))
	release := socket.HoldSendBuffer(cli)
	for range 100 {
		if n, err := cli.Send([]byte("0123456789"), nil, socket.SendFlags{}); n != 10 || err != nil {
			release()
			t.Fatalf("buffered send = %d, %v", n, err)
		}
	}
	if q := socket.SendBuffered(cli); q < 1000 {
		release()
		t.Fatalf("%d bytes buffered, want the 1000 just sent", q)
	}
	release()
	want := "b" + string(bytes.Repeat([]byte("0123456789"), 100))
	if got := readAll(t, srv, len(want)); string(got) != want {
		t.Fatalf("got %d bytes, not the buffered ones in order", len(got))
	}
	if q := socket.SendBuffered(cli); q != 0 {
		t.Fatalf("%d bytes still buffered after they arrived", q)
	}
}

func TestCoalesceOffWithNodelay(t *testing.T) {
	cli, srv := coalescedPair(t, 5103)
	if err := cli.SetOptionInt(unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		t.Fatal(err)
	}
	release := socket.HoldSendBuffer(cli)
	defer release()
	for range 10 {
		sendAll(t, cli, []byte("xy"))
	}
	// With TCP_NODELAY nothing is buffered: the bytes arrive although
	// the buffer's writer is held.
	if got := readAll(t, srv, 20); string(got) != string(bytes.Repeat([]byte("xy"), 10)) {
		t.Fatalf("got %q", got)
	}
	if q := socket.SendBuffered(cli); q != 0 {
		t.Fatalf("%d bytes buffered with TCP_NODELAY", q)
	}
}

func TestCoalesceNodelayFlushes(t *testing.T) {
	cli, srv := coalescedPair(t, 5104)
	sendAll(t, cli, []byte("a"))
	release := socket.HoldSendBuffer(cli)
	sendAll(t, cli, []byte("bcd"))
	done := make(chan error, 1)
	go func() { done <- cli.SetOptionInt(unix.IPPROTO_TCP, unix.TCP_NODELAY, 1) }()
	select {
	case err := <-done:
		release()
		t.Fatalf("TCP_NODELAY returned (%v) before the buffer could be written", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if q := socket.SendBuffered(cli); q != 0 {
		t.Fatalf("%d bytes still buffered after TCP_NODELAY", q)
	}
	if got := readAll(t, srv, 4); string(got) != "abcd" {
		t.Fatalf("got %q", got)
	}
}

// fillUntilFull sends small writes while the peer does not read, until
// sends stay refused for 100 ms; it returns what was accepted.
func fillUntilFull(t *testing.T, cli *socket.Socket) []byte {
	t.Helper()
	var sent []byte
	chunk := pattern(64 << 20)
	deadline := time.Now().Add(10 * time.Second)
	refusals := 0
	for off := 0; refusals < 5; {
		n, err := cli.Send(chunk[off:off+64], nil, socket.SendFlags{})
		sent = append(sent, chunk[off:off+n]...)
		off += n
		switch {
		case errors.Is(err, unix.EAGAIN):
			refusals++
			time.Sleep(20 * time.Millisecond)
		case err != nil:
			t.Fatal(err)
		default:
			refusals = 0
		}
		if time.Now().After(deadline) || off+64 > len(chunk) {
			t.Fatal("the send buffer never filled")
		}
	}
	return sent
}

func TestCoalesceFullBufferPollAndShutdown(t *testing.T) {
	cli, srv := coalescedPairBuf(t, 5105, 4096, 8192)
	sent := fillUntilFull(t, cli)
	if ev := cli.Poll(unix.POLLOUT); ev&unix.POLLOUT != 0 {
		t.Fatalf("poll says POLLOUT (%#x) while sends are refused", ev)
	}
	if r := cli.Readiness(socket.EventOut); r != 0 {
		t.Fatalf("readiness says writable while sends are refused")
	}
	if socket.SendBuffered(cli) == 0 {
		t.Log("the buffer was empty when full: gVisor refused first")
	}
	// shutdown must send the FIN after every accepted byte.
	if err := cli.Shutdown(unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Send([]byte("late"), nil, socket.SendFlags{}); !errors.Is(err, unix.EPIPE) {
		t.Fatalf("send after shutdown: %v, want EPIPE", err)
	}
	if got := readAll(t, srv, 0); !bytes.Equal(got, sent) {
		t.Fatalf("peer got %d bytes before EOF, want the %d accepted", len(got), len(sent))
	}
}

func TestCoalesceFullBufferClose(t *testing.T) {
	cli, srv := coalescedPairBuf(t, 5106, 4096, 8192)
	sent := fillUntilFull(t, cli)
	if err := cli.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, srv, 0); !bytes.Equal(got, sent) {
		t.Fatalf("peer got %d bytes before EOF, want the %d accepted before close", len(got), len(sent))
	}
}

func TestCoalesceWritableAgain(t *testing.T) {
	cli, srv := coalescedPairBuf(t, 5107, 4096, 8192)
	sent := fillUntilFull(t, cli)
	got := make(chan []byte, 1)
	go func() { got <- readAll(t, srv, len(sent)+1000) }()
	// The peer reads: a waiting writer must be woken and get room.
	more := pattern(1000)
	sendAll(t, cli, more)
	if b := <-got; !bytes.Equal(b, append(sent, more...)) {
		t.Fatalf("peer got %d bytes, not the %d sent in order", len(b), len(sent)+1000)
	}
}

func TestCoalesceErrorSurfaces(t *testing.T) {
	cli, srv := coalescedPair(t, 5108)
	// The peer resets the connection (close with linger 0).
	if err := srv.SetOption(unix.SOL_SOCKET, unix.SO_LINGER, []byte{1, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	sendAll(t, cli, []byte("a"))
	sendAll(t, cli, []byte("b"))
	srv.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := cli.Send([]byte("c"), nil, socket.SendFlags{})
		if errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE) {
			break
		}
		if err != nil && !errors.Is(err, unix.EAGAIN) {
			t.Fatalf("send after reset: %v, want ECONNRESET or EPIPE", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("sends after the peer's reset still succeed after 5 s")
		}
		if err != nil {
			cli.Wait(waiter.EventMask(socket.EventOut|socket.EventErr|socket.EventHUp), deadline)
		} else {
			time.Sleep(time.Millisecond)
		}
	}
}

func TestCoalesceOnlyForStreams(t *testing.T) {
	n := testnet.New(t)
	so := mustSocket(t, n, false, unix.SOCK_DGRAM)
	so.SetSendCoalesce(true)
	if so.SendCoalesce() {
		t.Fatal("a datagram socket coalesces")
	}
	tcp := mustSocket(t, n, false, unix.SOCK_STREAM)
	tcp.SetSendCoalesce(true)
	// Not connected: every send gets Linux's ENOTCONN (EPIPE in gVisor's
	// words), never a buffered success.
	for range 3 {
		if _, err := tcp.Send([]byte("x"), nil, socket.SendFlags{}); err == nil {
			t.Fatal("a send on an unconnected socket succeeded")
		}
	}
}

// A send made after shutdown(SHUT_WR) was deferred behind buffered bytes
// gets EPIPE, also while the flusher is between deciding to send the FIN
// and handing it to gVisor (the hook holds it there): it once cleared the
// deferred shutdown first, so such a send was taken, reported success and
// went out before the FIN.
func TestCoalesceSendDuringDeferredShutdown(t *testing.T) {
	cli, srv := coalescedPairBuf(t, 5109, 4096, 8192)
	sent := fillUntilFull(t, cli)
	if socket.SendBuffered(cli) == 0 {
		t.Fatal("nothing buffered when full: the shutdown would not be deferred")
	}
	entered, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	socket.SetFinishHook(func() { once.Do(func() { close(entered); <-proceed }) })
	defer socket.SetFinishHook(nil)
	if err := cli.Shutdown(unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() { got <- readAll(t, srv, 0) }()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		close(proceed)
		t.Fatal("the flusher did not carry out the shutdown within 10 s")
	}
	_, err := cli.Send([]byte("late"), nil, socket.SendFlags{})
	close(proceed)
	if !errors.Is(err, unix.EPIPE) {
		t.Errorf("send after shutdown: %v, want EPIPE", err)
	}
	if b := <-got; !bytes.Equal(b, sent) {
		t.Fatalf("peer got %d bytes before EOF, want the %d accepted before shutdown", len(b), len(sent))
	}
}

// After shutdown(SHUT_WR) Linux reports a stream writable at once (a send
// fails with EPIPE without waiting), although bytes still wait for the
// peer's window; Wait said so only when the bytes were gone.
func TestCoalesceWaitWritableAfterShutdown(t *testing.T) {
	cli, srv := coalescedPairBuf(t, 5110, 4096, 8192)
	sent := fillUntilFull(t, cli)
	if err := cli.Wait(socket.EventOut, time.Now().Add(50*time.Millisecond)); err == nil {
		t.Fatal("Wait says writable while sends are refused")
	}
	if err := cli.Shutdown(unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if ev := cli.Poll(unix.POLLOUT); ev&unix.POLLOUT == 0 {
		t.Fatalf("poll after shutdown = %#x, want POLLOUT", ev)
	}
	if r := cli.Readiness(socket.EventOut); r&socket.EventOut == 0 {
		t.Fatalf("Readiness after shutdown = %#x, want EventOut as poll says", r)
	}
	if err := cli.Wait(socket.EventOut, time.Now().Add(time.Second)); err != nil {
		t.Fatal("Wait for writability after shutdown timed out; Linux reports it at once")
	}
	if got := readAll(t, srv, 0); !bytes.Equal(got, sent) {
		t.Fatalf("peer got %d bytes before EOF, want the %d accepted", len(got), len(sent))
	}
}

// Turning coalescing off while gVisor's buffer is full keeps the byte
// order: the bytes still buffered go first. It once dropped the buffer
// from the socket, and the next sends went to gVisor ahead of them.
func TestCoalesceOffKeepsOrder(t *testing.T) {
	cli, srv := coalescedPairBuf(t, 5111, 4096, 8192)
	sent := fillUntilFull(t, cli)
	if socket.SendBuffered(cli) == 0 {
		t.Fatal("nothing buffered when full")
	}
	hold := socket.SendBufferHolder(cli)
	cli.SetSendCoalesce(false)
	if cli.SendCoalesce() {
		t.Fatal("SetSendCoalesce(false) did not turn it off")
	}
	// The buffered bytes wait (as behind a slow Write) while the peer
	// reads what gVisor holds and the next sends are made.
	release := hold()
	more := bytes.Repeat([]byte("after-off "), 300)
	want := append(append([]byte{}, sent...), more...)
	got := make(chan []byte, 1)
	go func() { got <- readAll(t, srv, len(want)) }()
	go func() { time.Sleep(200 * time.Millisecond); release() }()
	sendAll(t, cli, more)
	if b := <-got; !bytes.Equal(b, want) {
		i := 0
		for i < len(b) && i < len(want) && b[i] == want[i] {
			i++
		}
		t.Fatalf("peer got %d bytes, want %d in order (first difference at %d; %d accepted before it was turned off)",
			len(b), len(want), i, len(sent))
	}
}

// shutdown(SHUT_WR) wakes a writer waiting for room in a full coalescing
// buffer at once, as Linux's shutdown wakes every waiter: a blocked send
// fails with EPIPE, a poller sees POLLOUT. While the shutdown waited for
// the buffer to drain it woke nobody, and with a peer that reads nothing
// both slept until their timeout.
func TestCoalesceDeferredShutdownWakesWriters(t *testing.T) {
	cli, _ := coalescedPairBuf(t, 5112, 4096, 8192)
	fillUntilFull(t, cli)
	if socket.SendBuffered(cli) == 0 {
		t.Skip("the buffer was empty when full: gVisor refused first, nothing is deferred")
	}
	cli.SetNonblock(false)
	if err := cli.SetOption(unix.SOL_SOCKET, unix.SO_SNDTIMEO, timeval(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	sendDone, waitDone := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := cli.Send([]byte("blocked"), nil, socket.SendFlags{NoSignal: true})
		sendDone <- err
	}()
	go func() { waitDone <- cli.Wait(socket.EventOut, time.Now().Add(3*time.Second)) }()
	time.Sleep(200 * time.Millisecond) // both are asleep by now
	select {
	case err := <-sendDone:
		t.Fatalf("send did not block on the full buffer: %v", err)
	case err := <-waitDone:
		t.Fatalf("Wait for EventOut returned on the full buffer: %v", err)
	default:
	}
	at := time.Now()
	if err := cli.Shutdown(unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	serr := <-sendDone
	stook := time.Since(at)
	werr := <-waitDone
	wtook := time.Since(at)
	if !errors.Is(serr, unix.EPIPE) || stook > time.Second {
		t.Errorf("blocked send after shutdown: %v after %v, want EPIPE at once", serr, stook)
	}
	if werr != nil || wtook > time.Second {
		t.Errorf("Wait for EventOut after shutdown: %v after %v, want writable at once", werr, wtook)
	}
}

// The oracle for TestCoalesceDeferredShutdownWakesWriters: on the kernel,
// shutdown(SHUT_WR) wakes a send blocked on a full buffer (EPIPE) and a
// poll for POLLOUT.
func TestKernelShutdownWakesWriters(t *testing.T) {
	k := kernelSockets{t}
	ln := k.newSocket(unix.SOCK_STREAM)
	port := k.listen(ln)
	fd := k.newSocket(unix.SOCK_STREAM)
	k.connect(fd, port)
	k.accept(ln)
	chunk := make([]byte, 64<<10)
	for i := 0; ; i++ {
		if _, err := unix.Write(fd, chunk); errors.Is(err, unix.EAGAIN) {
			break
		} else if err != nil && !errors.Is(err, unix.EINPROGRESS) {
			t.Fatal(err)
		}
		if i > 10000 {
			t.Fatal("the kernel's send buffer never filled")
		}
		time.Sleep(time.Millisecond)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		t.Fatal(err)
	}
	tv := unix.Timeval{Sec: 3}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	sendDone, pollDone := make(chan error, 1), make(chan int16, 1)
	go func() { sendDone <- unix.Sendto(fd, []byte("blocked"), unix.MSG_NOSIGNAL, nil) }()
	go func() {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		unix.Poll(pfd, 3000)
		pollDone <- pfd[0].Revents
	}()
	time.Sleep(200 * time.Millisecond)
	at := time.Now()
	if err := unix.Shutdown(fd, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if err := <-sendDone; !errors.Is(err, unix.EPIPE) || time.Since(at) > time.Second {
		t.Errorf("kernel: blocked send after shutdown: %v after %v", err, time.Since(at))
	}
	if ev := <-pollDone; ev&unix.POLLOUT == 0 || time.Since(at) > time.Second {
		t.Errorf("kernel: poll after shutdown: %#x after %v", ev, time.Since(at))
	}
}
