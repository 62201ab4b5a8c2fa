package socket_test

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/gonetif/gonetif/gonetif/internal/testnet"
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
