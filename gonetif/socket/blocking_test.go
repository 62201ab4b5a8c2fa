package socket_test

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// blockingSocket is a socket with Linux's default: blocking.
func blockingSocket(t *testing.T, n *testnet.Net, onB bool, typ int) *socket.Socket {
	t.Helper()
	s := n.A
	if onB {
		s = n.B
	}
	so, err := socket.New(s.Gvisor(), unix.AF_INET, typ, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { so.Release() })
	return so
}

func timeval(d time.Duration) []byte {
	b := make([]byte, 16)
	binary.NativeEndian.PutUint64(b, uint64(d/time.Second))
	binary.NativeEndian.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
	return b
}

// tcpPair connects a blocking client on A to a server on B (port) and
// returns both ends, blocking.
func tcpPair(t *testing.T, n *testnet.Net, port uint16) (cli, srv *socket.Socket) {
	t.Helper()
	ln := blockingSocket(t, n, true, unix.SOCK_STREAM)
	if err := ln.Bind(addr(ipB, port)); err != nil {
		t.Fatal(err)
	}
	if err := ln.Listen(4); err != nil {
		t.Fatal(err)
	}
	cli = blockingSocket(t, n, false, unix.SOCK_STREAM)
	if err := cli.Connect(addr(ipB, port)); err != nil {
		t.Fatalf("blocking connect: %v", err)
	}
	srv, _, err := ln.Accept()
	if err != nil {
		t.Fatalf("blocking accept: %v", err)
	}
	t.Cleanup(func() { srv.Release() })
	if srv.Nonblock() {
		t.Fatal("accepted socket is non-blocking, want blocking as Linux")
	}
	return cli, srv
}

func within(t *testing.T, what string, got, lo, hi time.Duration) {
	t.Helper()
	if got < lo || got > hi {
		t.Fatalf("%s took %v, want between %v and %v", what, got, lo, hi)
	}
}

func TestRecvTimeoutAndOptions(t *testing.T) {
	n := testnet.New(t)
	cli, srv := tcpPair(t, n, 5300)
	if err := srv.SetOption(unix.SOL_SOCKET, unix.SO_RCVTIMEO, timeval(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	o, err := srv.Option(unix.SOL_SOCKET, unix.SO_RCVTIMEO)
	if err != nil || o.N != 16 || string(o.B[:16]) != string(timeval(300*time.Millisecond)) {
		t.Fatalf("SO_RCVTIMEO read back %x (%d) %v", o.B[:o.N], o.N, err)
	}
	start := time.Now()
	if _, err := srv.Recv(make([]byte, 8), socket.RecvFlags{}); err != unix.EAGAIN {
		t.Fatalf("recv with nothing sent: %v, want EAGAIN after the timeout", err)
	}
	within(t, "recv timeout of 300ms", time.Since(start), 290*time.Millisecond, 2*time.Second)

	// Data before the timeout ends the wait at once.
	go func() {
		time.Sleep(50 * time.Millisecond)
		cli.Send([]byte("hi"), nil, socket.SendFlags{})
	}()
	start = time.Now()
	buf := make([]byte, 8)
	res, err := srv.Recv(buf, socket.RecvFlags{})
	if err != nil || string(buf[:res.N]) != "hi" {
		t.Fatalf("recv: %q %v", buf[:res.N], err)
	}
	within(t, "recv of data sent after 50ms", time.Since(start), 40*time.Millisecond, 280*time.Millisecond)

	// Linux's checks of the value.
	bad := timeval(time.Second)
	binary.NativeEndian.PutUint64(bad[8:], 1_000_000)
	if err := srv.SetOption(unix.SOL_SOCKET, unix.SO_SNDTIMEO, bad); err != unix.EDOM {
		t.Fatalf("tv_usec 1e6: %v, want EDOM", err)
	}
	if err := srv.SetOption(unix.SOL_SOCKET, unix.SO_SNDTIMEO, make([]byte, 8)); err != unix.EINVAL {
		t.Fatalf("short timeval: %v, want EINVAL", err)
	}
	negative := timeval(500 * time.Millisecond)
	binary.NativeEndian.PutUint64(negative, ^uint64(0)) // tv_sec -1
	if err := srv.SetOption(unix.SOL_SOCKET, unix.SO_SNDTIMEO, negative); err != nil {
		t.Fatal(err)
	}
	if o, _ := srv.Option(unix.SOL_SOCKET, unix.SO_SNDTIMEO); string(o.B[:16]) != string(make([]byte, 16)) {
		t.Fatalf("negative tv_sec read back as %x, want 0 (no timeout)", o.B[:16])
	}
}

// A deadline is computed once per call: waking the caller early (here:
// stepping again at once, as after spurious wake-ups) does not move it.
func TestDeadlineOncePerCall(t *testing.T) {
	n := testnet.New(t)
	_, srv := tcpPair(t, n, 5301)
	srv.SetOption(unix.SOL_SOCKET, unix.SO_RCVTIMEO, timeval(200*time.Millisecond))
	var c socket.Call
	buf := make([]byte, 8)
	start := time.Now()
	if _, err := srv.RecvStep(&c, buf, socket.RecvFlags{}); err != socket.ErrWait {
		t.Fatalf("first step: %v, want ErrWait", err)
	}
	until := c.Until
	if left := time.Duration(until - socket.MonoNow()); left <= 0 || left > 200*time.Millisecond {
		t.Fatalf("wait until %v from now, want within the 200ms timeout", left)
	}
	for i := 0; i < 5; i++ {
		time.Sleep(30 * time.Millisecond)
		if _, err := srv.RecvStep(&c, buf, socket.RecvFlags{}); err != socket.ErrWait || c.Until != until {
			t.Fatalf("spurious wake %d: %v, until moved by %v", i, err, time.Duration(c.Until-until))
		}
	}
	time.Sleep(time.Duration(until - socket.MonoNow()))
	if _, err := srv.RecvStep(&c, buf, socket.RecvFlags{}); err != unix.EAGAIN {
		t.Fatalf("step after the deadline: %v, want EAGAIN", err)
	}
	within(t, "recv with 5 early wakes", time.Since(start), 195*time.Millisecond, time.Second)
}

func TestNonblockingFlag(t *testing.T) {
	n := testnet.New(t)
	cli, srv := tcpPair(t, n, 5302)
	start := time.Now()
	if _, err := srv.Recv(make([]byte, 4), socket.RecvFlags{DontWait: true}); err != unix.EAGAIN {
		t.Fatalf("MSG_DONTWAIT recv: %v, want EAGAIN", err)
	}
	srv.SetNonblock(true)
	if _, err := srv.Recv(make([]byte, 4), socket.RecvFlags{}); err != unix.EAGAIN {
		t.Fatalf("O_NONBLOCK recv: %v, want EAGAIN", err)
	}
	within(t, "non-blocking calls", time.Since(start), 0, 100*time.Millisecond)
	srv.SetNonblock(false)
	cli.Send([]byte("x"), nil, socket.SendFlags{})
	if res, err := srv.Recv(make([]byte, 4), socket.RecvFlags{}); err != nil || res.N != 1 {
		t.Fatalf("blocking again: %+v %v", res, err)
	}

	ln := blockingSocket(t, n, true, unix.SOCK_STREAM|unix.SOCK_NONBLOCK)
	if !ln.Nonblock() {
		t.Fatal("SOCK_NONBLOCK did not set O_NONBLOCK")
	}
	ln.Bind(addr(ipB, 5303))
	ln.Listen(2)
	if _, _, err := ln.Accept(); err != unix.EAGAIN {
		t.Fatalf("non-blocking accept: %v, want EAGAIN", err)
	}
	c := blockingSocket(t, n, false, unix.SOCK_STREAM)
	c.SetNonblock(true)
	if err := c.Connect(addr(ipB, 5303)); err != unix.EINPROGRESS {
		t.Fatalf("non-blocking connect: %v, want EINPROGRESS", err)
	}
}

// A blocking connect to a host that never answers gives up at
// SO_SNDTIMEO with EINPROGRESS, as Linux.
func TestConnectTimeout(t *testing.T) {
	n := testnet.New(t)
	c := blockingSocket(t, n, false, unix.SOCK_STREAM)
	c.SetOption(unix.SOL_SOCKET, unix.SO_SNDTIMEO, timeval(250*time.Millisecond))
	start := time.Now()
	if err := c.Connect(addr([4]byte{10, 7, 0, 99}, 80)); err != unix.EINPROGRESS {
		t.Fatalf("connect to nobody: %v, want EINPROGRESS", err)
	}
	within(t, "connect timeout of 250ms", time.Since(start), 240*time.Millisecond, 2*time.Second)
}

// MSG_WAITALL gathers several segments into one receive.
func TestWaitAllAcrossSegments(t *testing.T) {
	n := testnet.New(t)
	cli, srv := tcpPair(t, n, 5304)
	cli.SetOptionInt(unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	go func() {
		for _, part := range []string{"0123456789", "abcdefghij", "ABCDEFGHIJ"} {
			cli.Send([]byte(part), nil, socket.SendFlags{})
			time.Sleep(40 * time.Millisecond)
		}
	}()
	buf := make([]byte, 30)
	res, err := srv.Recv(buf, socket.RecvFlags{WaitAll: true})
	if err != nil || string(buf[:res.N]) != "0123456789abcdefghijABCDEFGHIJ" {
		t.Fatalf("WAITALL recv: %q %v, want all three segments", buf[:res.N], err)
	}
	// Without it a receive returns what has come.
	go cli.Send([]byte("short"), nil, socket.SendFlags{})
	res, err = srv.Recv(buf, socket.RecvFlags{})
	if err != nil || res.N == 0 || res.N > 5 {
		t.Fatalf("plain recv: %d %v", res.N, err)
	}
	// The peer closing ends a WAITALL receive with what it has.
	go func() {
		cli.Send([]byte("end"), nil, socket.SendFlags{})
		time.Sleep(40 * time.Millisecond)
		cli.Shutdown(unix.SHUT_WR)
	}()
	got := res.N
	res, err = srv.Recv(buf, socket.RecvFlags{WaitAll: true})
	if err != nil || got+res.N != 8 {
		t.Fatalf("WAITALL until EOF: %d more bytes, %v", res.N, err)
	}
}

// A datagram longer than the buffer is cut; Total says its size.
func TestTruncatedDatagram(t *testing.T) {
	n := testnet.New(t)
	u := blockingSocket(t, n, false, unix.SOCK_DGRAM)
	if err := u.Bind(addr(ipA, 5305)); err != nil {
		t.Fatal(err)
	}
	to := addr(ipA, 5305)
	u.Send([]byte("0123456789"), &to, socket.SendFlags{})
	buf := make([]byte, 4)
	res, err := u.Recv(buf, socket.RecvFlags{})
	if err != nil || res.N != 4 || res.Total != 10 || string(buf) != "0123" {
		t.Fatalf("truncated datagram: %+v %q %v, want 4 of 10", res, buf, err)
	}
	if _, err := u.Recv(buf, socket.RecvFlags{DontWait: true}); err != unix.EAGAIN {
		t.Fatalf("rest of the datagram: %v, want EAGAIN (it was taken whole)", err)
	}
}

// SO_LINGER: close waits for the FIN's ack at most the linger time; with
// a silent peer the whole time, with a live one much less.
func TestLingerSilentPeer(t *testing.T) {
	n := testnet.New(t)
	cli, _ := tcpPair(t, n, 5306)
	lg := make([]byte, 8)
	binary.NativeEndian.PutUint32(lg, 1)
	binary.NativeEndian.PutUint32(lg[4:], 1)
	if err := cli.SetOption(unix.SOL_SOCKET, unix.SO_LINGER, lg); err != nil {
		t.Fatal(err)
	}
	if err := n.NetifB.Down(); err != nil { // B answers nothing any more
		t.Fatal(err)
	}
	start := time.Now()
	if err := cli.Close(); err != nil {
		t.Fatal(err)
	}
	within(t, "lingering close, silent peer, 1 s", time.Since(start), 990*time.Millisecond, 3*time.Second)

	n2 := testnet.New(t)
	cli2, _ := tcpPair(t, n2, 5307)
	cli2.SetOption(unix.SOL_SOCKET, unix.SO_LINGER, lg)
	start = time.Now()
	cli2.Close()
	within(t, "lingering close, live peer", time.Since(start), 0, 500*time.Millisecond)
}

// EPIPE on a stream asks for SIGPIPE unless MSG_NOSIGNAL.
func TestSigpipeDecision(t *testing.T) {
	n := testnet.New(t)
	cli, _ := tcpPair(t, n, 5308)
	cli.Shutdown(unix.SHUT_WR)
	_, err := cli.Send([]byte("x"), nil, socket.SendFlags{})
	if !errors.As(err, new(socket.BrokenPipe)) || !errors.Is(err, unix.EPIPE) {
		t.Fatalf("send after SHUT_WR: %v, want BrokenPipe (EPIPE)", err)
	}
	_, err = cli.Send([]byte("x"), nil, socket.SendFlags{NoSignal: true})
	if err != unix.EPIPE {
		t.Fatalf("send with MSG_NOSIGNAL: %v, want plain EPIPE", err)
	}
	// A datagram socket never asks for it.
	u := blockingSocket(t, n, false, unix.SOCK_DGRAM)
	u.Shutdown(unix.SHUT_WR)
	to := tcpip.FullAddress{Addr: tcpip.AddrFrom4(ipB), Port: 9}
	if _, err := u.Send([]byte("x"), &to, socket.SendFlags{}); errors.As(err, new(socket.BrokenPipe)) {
		t.Fatalf("datagram send after SHUT_WR: %v asks for SIGPIPE", err)
	}
}

// A blocking stream send returns only when all is queued, across waits
// for the peer to read; SO_SNDTIMEO then bounds it with a partial count.
func TestStreamSendLoop(t *testing.T) {
	n := testnet.New(t)
	cli, srv := tcpPair(t, n, 5309)
	cli.SetOptionInt(unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
	srv.SetOptionInt(unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
	big := make([]byte, 4<<20)
	got := make(chan int)
	go func() {
		total, buf := 0, make([]byte, 64<<10)
		srv.SetOption(unix.SOL_SOCKET, unix.SO_RCVTIMEO, timeval(2*time.Second))
		for total < len(big) {
			res, err := srv.Recv(buf, socket.RecvFlags{})
			if err != nil || res.EOF {
				break
			}
			total += res.N
		}
		got <- total
	}()
	if k, err := cli.Send(big, nil, socket.SendFlags{}); err != nil || k != len(big) {
		t.Fatalf("blocking send of 4 MiB: %d %v, want all", k, err)
	}
	if total := <-got; total != len(big) {
		t.Fatalf("peer read %d bytes, want %d", total, len(big))
	}
	// Nobody reads now: the send gives up at the timeout with what it queued.
	cli.SetOption(unix.SOL_SOCKET, unix.SO_SNDTIMEO, timeval(200*time.Millisecond))
	start := time.Now()
	k, err := cli.Send(big, nil, socket.SendFlags{})
	if err != nil || k <= 0 || k >= len(big) {
		t.Fatalf("send with nobody reading: %d %v, want a partial count", k, err)
	}
	within(t, "send timeout of 200ms", time.Since(start), 190*time.Millisecond, 3*time.Second)
}

// SO_BINDTODEVICE speaks interface names from Go too (the stack's NIC
// names by default), with Linux's answers.
func TestBindToDeviceByName(t *testing.T) {
	n := testnet.New(t)
	u := blockingSocket(t, n, false, unix.SOCK_DGRAM)
	if err := u.SetOption(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("A\x00")); err != nil {
		t.Fatalf("bind to A: %v", err)
	}
	if v, _ := u.OptionInt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE); v != int(n.NetifA.NICID()) {
		t.Fatalf("bound to index %d, want A's %d", v, n.NetifA.NICID())
	}
	o, err := u.Option(unix.SOL_SOCKET, unix.SO_BINDTODEVICE)
	if err != nil || string(o.B[:o.N]) != "A\x00" || o.MinRoom != unix.IFNAMSIZ {
		t.Fatalf("read back %q %v, want \"A\\x00\" that must fit whole", o.B[:o.N], err)
	}
	if err := u.SetOption(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("nosuch9\x00")); err != unix.ENODEV {
		t.Fatalf("unknown device: %v, want ENODEV", err)
	}
	if err := u.SetOption(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte{0}); err != nil {
		t.Fatalf("clear: %v", err)
	}
	if o, err := u.Option(unix.SOL_SOCKET, unix.SO_BINDTODEVICE); err != nil || o.N != 0 {
		t.Fatalf("after clearing: %q %v, want empty", o.B[:o.N], err)
	}
}
