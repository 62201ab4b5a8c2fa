package socket_test

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// Linux's answers for cases the privileged conformance suite checks
// against the kernel, kept here so plain `go test` sees regressions.

func TestPollFreshAndRefused(t *testing.T) {
	n := testnet.New(t)
	so := mustSocket(t, n, false, unix.SOCK_STREAM)
	if got := so.Poll(unix.POLLIN | unix.POLLOUT); got != unix.POLLOUT|unix.POLLHUP {
		t.Fatalf("fresh socket poll %#x, want POLLOUT|POLLHUP", got)
	}
	if err := so.Connect(addr(ipB, 4999)); err != unix.EINPROGRESS {
		t.Fatalf("connect: %v", err)
	}
	wait(t, so, uint64(waiter.EventOut|waiter.EventErr|waiter.EventHUp))
	if got := so.Poll(unix.POLLOUT); got&unix.POLLERR == 0 {
		t.Fatalf("refused poll %#x, want POLLERR", got)
	}
	if e := so.PendingError(); e != unix.ECONNREFUSED {
		t.Fatalf("SO_ERROR %v, want ECONNREFUSED", e)
	}
	if e := so.PendingError(); e != 0 {
		t.Fatalf("SO_ERROR again %v, want 0", e)
	}
	if got := so.Poll(unix.POLLOUT); got&unix.POLLERR != 0 {
		t.Fatalf("poll after SO_ERROR %#x still has POLLERR", got)
	}
	// The error was taken: the next connect reports ECONNABORTED, and the
	// one after starts over (and is refused again).
	if err := so.Connect(addr(ipB, 4999)); err != unix.ECONNABORTED {
		t.Fatalf("connect after SO_ERROR: %v, want ECONNABORTED", err)
	}
	if err := so.Connect(addr(ipB, 4999)); err != unix.EINPROGRESS {
		t.Fatalf("connect again: %v, want EINPROGRESS", err)
	}
	wait(t, so, uint64(waiter.EventOut|waiter.EventErr|waiter.EventHUp))
	if err := so.Connect(addr(ipB, 4999)); err != unix.ECONNREFUSED {
		t.Fatalf("settled connect: %v, want ECONNREFUSED", err)
	}
}

func TestConnectSettlesOnce(t *testing.T) {
	n := testnet.New(t)
	ln := mustSocket(t, n, true, unix.SOCK_STREAM)
	if err := ln.Bind(addr(ipB, 5001)); err != nil {
		t.Fatal(err)
	}
	if err := ln.Listen(4); err != nil {
		t.Fatal(err)
	}
	if err := ln.Connect(addr(ipA, 1)); err != unix.EISCONN {
		t.Fatalf("connect on a listener: %v, want EISCONN", err)
	}
	c := mustSocket(t, n, false, unix.SOCK_STREAM)
	if err := c.Connect(addr(ipB, 5001)); err != unix.EINPROGRESS {
		t.Fatal(err)
	}
	wait(t, c, uint64(waiter.WritableEvents))
	if e := c.PendingError(); e != 0 {
		t.Fatalf("SO_ERROR %v", e)
	}
	if err := c.Connect(addr(ipB, 5001)); err != nil {
		t.Fatalf("first connect after EINPROGRESS: %v, want success", err)
	}
	if err := c.Connect(addr(ipB, 5001)); err != unix.EISCONN {
		t.Fatalf("second: %v, want EISCONN", err)
	}
}

func TestOptionBytes(t *testing.T) {
	n := testnet.New(t)
	tcpSo := mustSocket(t, n, false, unix.SOCK_STREAM)
	udpSo := mustSocket(t, n, false, unix.SOCK_DGRAM)
	if err := tcpSo.SetOption(unix.SOL_SOCKET, unix.SO_REUSEADDR, []byte{1, 0}); err != unix.EINVAL {
		t.Fatalf("short int option: %v, want EINVAL", err)
	}
	if err := udpSo.SetOption(unix.IPPROTO_IP, unix.IP_TTL, []byte{9}); err != nil {
		t.Fatalf("one-byte IP_TTL: %v", err)
	}
	if v, _ := udpSo.OptionInt(unix.IPPROTO_IP, unix.IP_TTL); v != 9 {
		t.Fatalf("IP_TTL %d, want 9", v)
	}
	lg := make([]byte, 8)
	binary.NativeEndian.PutUint32(lg, 1)
	binary.NativeEndian.PutUint32(lg[4:], 7)
	if err := tcpSo.SetOption(unix.SOL_SOCKET, unix.SO_LINGER, lg); err != nil {
		t.Fatal(err)
	}
	o, err := tcpSo.Option(unix.SOL_SOCKET, unix.SO_LINGER)
	if err != nil || o.N != 8 || binary.NativeEndian.Uint32(o.B[4:]) != 7 {
		t.Fatalf("SO_LINGER back: %v %+v", err, o)
	}
	// No route for the group here, so name the interface by its address
	// (with INADDR_ANY both Linux and gonetif say ENODEV).
	mreq := append([]byte{239, 1, 2, 3}, ipA[:]...)
	if err := udpSo.SetOption(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq); err != nil {
		t.Fatalf("join: %v", err)
	}
	if err := udpSo.SetOption(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq); err != unix.EADDRINUSE {
		t.Fatalf("join again: %v, want EADDRINUSE", err)
	}
	if err := udpSo.SetOption(unix.IPPROTO_IP, unix.IP_DROP_MEMBERSHIP, mreq); err != nil {
		t.Fatalf("leave: %v", err)
	}
	if err := udpSo.SetOption(unix.IPPROTO_IP, unix.IP_DROP_MEMBERSHIP, mreq); err != unix.EADDRNOTAVAIL {
		t.Fatalf("leave again: %v, want EADDRNOTAVAIL", err)
	}
	if err := tcpSo.SetOption(unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, []byte{1, 0, 0, 0}); err != unix.ENOPROTOOPT {
		t.Fatalf("IPV6_V6ONLY on AF_INET: %v, want ENOPROTOOPT", err)
	}
}

// Zero-length receives and MSG_OOB, as the misuse section of the
// conformance suite found Linux answering.
func TestRecvZeroLengthAndOOB(t *testing.T) {
	n := testnet.New(t)
	ln := mustSocket(t, n, true, unix.SOCK_STREAM)
	if err := ln.Bind(addr(ipB, 5100)); err != nil {
		t.Fatal(err)
	}
	if err := ln.Listen(4); err != nil {
		t.Fatal(err)
	}
	cli := mustSocket(t, n, false, unix.SOCK_STREAM)
	if err := cli.Connect(addr(ipB, 5100)); err != unix.EINPROGRESS {
		t.Fatal(err)
	}
	wait(t, ln, uint64(socket.EventIn))
	srv, _, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	srv.SetNonblock(true)
	defer srv.Close()
	if _, err := srv.Recv(nil, socket.RecvFlags{}); err != unix.EAGAIN {
		t.Fatalf("zero-length recv, nothing queued: %v, want EAGAIN", err)
	}
	if _, err := srv.Recv(make([]byte, 8), socket.RecvFlags{OOB: true}); err != unix.EINVAL {
		t.Fatalf("MSG_OOB on a stream: %v, want EINVAL", err)
	}
	wait(t, cli, uint64(socket.EventOut))
	if _, err := cli.Send([]byte("xy"), nil, socket.SendFlags{}); err != nil {
		t.Fatal(err)
	}
	wait(t, srv, uint64(socket.EventIn))
	if res, err := srv.Recv(nil, socket.RecvFlags{}); err != nil || res.N != 0 {
		t.Fatalf("zero-length recv with data: %+v %v, want 0", res, err)
	}
	buf := make([]byte, 8)
	if res, err := srv.Recv(buf, socket.RecvFlags{}); err != nil || string(buf[:res.N]) != "xy" {
		t.Fatalf("data after a zero-length recv: %q %v, want it kept", buf[:res.N], err)
	}

	// A datagram: taken whole by a zero-length receive; MSG_OOB ignored.
	u := mustSocket(t, n, false, unix.SOCK_DGRAM)
	if err := u.Bind(addr(ipA, 5101)); err != nil {
		t.Fatal(err)
	}
	to := addr(ipA, 5101)
	if _, err := u.Send([]byte("dgram"), &to, socket.SendFlags{}); err != nil {
		t.Fatal(err)
	}
	wait(t, u, uint64(socket.EventIn))
	if res, err := u.Recv(nil, socket.RecvFlags{OOB: true}); err != nil || res.N != 0 || res.Total != 5 {
		t.Fatalf("zero-length datagram recv: %+v %v, want N 0 of 5", res, err)
	}
	if _, err := u.Recv(buf, socket.RecvFlags{}); err != unix.EAGAIN {
		t.Fatalf("after it: %v, want EAGAIN (the datagram was taken)", err)
	}
}

// When the ephemeral ports run out, connect says EADDRNOTAVAIL and bind
// to port 0 EADDRINUSE, as Linux.
func TestEphemeralPortsExhausted(t *testing.T) {
	n := testnet.New(t)
	if err := n.A.Gvisor().SetPortRange(40000, 40003); err != nil {
		t.Fatal(err)
	}
	ln := mustSocket(t, n, true, unix.SOCK_STREAM)
	if err := ln.Bind(addr(ipB, 5200)); err != nil {
		t.Fatal(err)
	}
	if err := ln.Listen(16); err != nil {
		t.Fatal(err)
	}
	var last error
	for i := 0; i < 6; i++ {
		so := mustSocket(t, n, false, unix.SOCK_STREAM)
		if last = so.Connect(addr(ipB, 5200)); last != unix.EINPROGRESS {
			break
		}
	}
	if last != unix.EADDRNOTAVAIL {
		t.Fatalf("connect with no port left: %v, want EADDRNOTAVAIL", last)
	}
	b := mustSocket(t, n, false, unix.SOCK_STREAM)
	if err := b.Bind(addr(ipA, 0)); err != unix.EADDRINUSE {
		t.Fatalf("bind to port 0 with no port left: %v, want EADDRINUSE", err)
	}
}
