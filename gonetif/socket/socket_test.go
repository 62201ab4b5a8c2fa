package socket_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif/config"
	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

func addr(a [4]byte, port uint16) tcpip.FullAddress {
	return tcpip.FullAddress{Addr: tcpip.AddrFrom4(a), Port: port}
}

var (
	ipA = testnet.AddrA.As4()
	ipB = testnet.AddrB.As4()
)

// coalesceAll: GONETIF_SEND_COALESCE=1 in the environment runs every test
// with send coalescing on for its stream sockets, as a socket.Table would
// (socket.New leaves it off); unset or 0, only the coalescing tests use it.
var coalesceAll = func() bool {
	v, err := config.Environ()
	return err == nil && v.IsSet(config.SendCoalesce) && v.Bool(config.SendCoalesce)
}()

func mustSocket(t *testing.T, n *testnet.Net, onB bool, typ int) *socket.Socket {
	t.Helper()
	s := n.A
	if onB {
		s = n.B
	}
	// Non-blocking: these tests make single attempts and wait themselves.
	so, err := socket.New(s.Gvisor(), unix.AF_INET, typ|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { so.Close() })
	if coalesceAll {
		so.SetSendCoalesce(true)
	}
	return so
}

func wait(t *testing.T, so *socket.Socket, mask uint64) {
	t.Helper()
	if err := so.Wait(waiter.EventMask(mask), time.Now().Add(5*time.Second)); err != nil {
		t.Fatalf("no readiness within 5s: %v", err)
	}
}

func TestNonBlockingTCPLifecycle(t *testing.T) {
	n := testnet.New(t)
	ln := mustSocket(t, n, true, unix.SOCK_STREAM)
	if err := ln.SetOptionInt(unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		t.Fatal(err)
	}
	if err := ln.Bind(addr(ipB, 5000)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ln.Accept(); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("accept before listen: %v, want EINVAL", err)
	}
	if err := ln.Listen(8); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ln.Accept(); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("accept with nothing pending: %v, want EAGAIN", err)
	}

	cli := mustSocket(t, n, false, unix.SOCK_STREAM)
	if err := cli.Connect(addr(ipB, 5000)); !errors.Is(err, unix.EINPROGRESS) {
		t.Fatalf("connect: %v, want EINPROGRESS", err)
	}
	wait(t, cli, uint64(socket.EventOut))
	if err := cli.ConnectResult(); err != nil {
		t.Fatalf("connect result: %v", err)
	}
	if err := cli.Connect(addr(ipB, 5000)); !errors.Is(err, unix.EISCONN) {
		t.Fatalf("second connect: %v, want EISCONN", err)
	}

	wait(t, ln, uint64(socket.EventIn))
	srv, peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	srv.SetNonblock(true)
	defer srv.Close()
	if peer.Addr != tcpip.AddrFrom4(ipA) {
		t.Fatalf("peer %v, want %v", peer.Addr, ipA)
	}

	buf := make([]byte, 16)
	if _, err := srv.Recv(buf, socket.RecvFlags{}); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("recv on empty: %v, want EAGAIN", err)
	}
	if n, err := cli.Send([]byte("hello"), nil, socket.SendFlags{}); n != 5 || err != nil {
		t.Fatalf("send: %d %v", n, err)
	}
	wait(t, srv, uint64(socket.EventIn))
	res, err := srv.Recv(buf, socket.RecvFlags{Peek: true})
	if err != nil || string(buf[:res.N]) != "hello" {
		t.Fatalf("peek: %q %v", buf[:res.N], err)
	}
	res, err = srv.Recv(buf, socket.RecvFlags{})
	if err != nil || string(buf[:res.N]) != "hello" {
		t.Fatalf("recv: %q %v", buf[:res.N], err)
	}
	if err := cli.Shutdown(unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	wait(t, srv, uint64(socket.EventIn))
	if res, err := srv.Recv(buf, socket.RecvFlags{}); err != nil || !res.EOF {
		t.Fatalf("after peer shutdown: %+v %v, want EOF", res, err)
	}
	if err := cli.Shutdown(42); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("shutdown(42): %v", err)
	}
}

func TestConnectRefused(t *testing.T) {
	n := testnet.New(t)
	cli := mustSocket(t, n, false, unix.SOCK_STREAM)
	if err := cli.Connect(addr(ipB, 1)); !errors.Is(err, unix.EINPROGRESS) {
		t.Fatalf("connect: %v", err)
	}
	wait(t, cli, uint64(socket.EventOut|socket.EventErr|socket.EventHUp))
	if err := cli.ConnectResult(); !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("connect result: %v, want ECONNREFUSED", err)
	}
}

func TestAddressInUse(t *testing.T) {
	n := testnet.New(t)
	a := mustSocket(t, n, true, unix.SOCK_STREAM)
	b := mustSocket(t, n, true, unix.SOCK_STREAM)
	if err := a.Bind(addr(ipB, 6000)); err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(1); err != nil {
		t.Fatal(err)
	}
	if err := b.Bind(addr(ipB, 6000)); !errors.Is(err, unix.EADDRINUSE) {
		t.Fatalf("second bind: %v, want EADDRINUSE", err)
	}
}

func TestUDPTruncationAndSender(t *testing.T) {
	n := testnet.New(t)
	srv := mustSocket(t, n, true, unix.SOCK_DGRAM)
	if err := srv.Bind(addr(ipB, 7000)); err != nil {
		t.Fatal(err)
	}
	cli := mustSocket(t, n, false, unix.SOCK_DGRAM)
	to := addr(ipB, 7000)
	msg := bytes.Repeat([]byte("x"), 100)
	if n, err := cli.Send(msg, &to, socket.SendFlags{}); n != 100 || err != nil {
		t.Fatalf("sendto: %d %v", n, err)
	}
	wait(t, srv, uint64(socket.EventIn))
	buf := make([]byte, 10)
	res, err := srv.Recv(buf, socket.RecvFlags{NeedRemoteAddr: true})
	if err != nil || res.N != 10 || res.Total != 100 {
		t.Fatalf("recv: %+v %v, want 10 of 100", res, err)
	}
	if res.From.Addr != tcpip.AddrFrom4(ipA) || res.From.Port == 0 {
		t.Fatalf("sender %v", res.From)
	}
}

func TestSocketArguments(t *testing.T) {
	n := testnet.New(t)
	gv := n.A.Gvisor()
	cases := []struct {
		domain, typ, proto int
		want               unix.Errno
	}{
		{unix.AF_UNIX, unix.SOCK_STREAM, 0, unix.EAFNOSUPPORT},
		{unix.AF_INET, 99, 0, unix.EINVAL},
		{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_UDP, unix.EPROTONOSUPPORT},
		{unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_TCP, unix.EPROTONOSUPPORT},
	}
	for _, c := range cases {
		if _, err := socket.New(gv, c.domain, c.typ, c.proto); !errors.Is(err, c.want) {
			t.Errorf("socket(%d,%d,%d) = %v, want %v", c.domain, c.typ, c.proto, err, c.want)
		}
	}
	so := mustSocket(t, n, false, unix.SOCK_DGRAM)
	if err := so.SetOptionInt(unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); !errors.Is(err, unix.ENOPROTOOPT) {
		t.Errorf("TCP_NODELAY on UDP: %v, want ENOPROTOOPT", err)
	}
	if v, err := so.OptionInt(unix.SOL_SOCKET, unix.SO_TYPE); err != nil || v != unix.SOCK_DGRAM {
		t.Errorf("SO_TYPE = %d %v", v, err)
	}
}

func TestNagleDefaultLikeLinux(t *testing.T) {
	n := testnet.New(t)
	so := mustSocket(t, n, false, unix.SOCK_STREAM)
	if v, _ := so.OptionInt(unix.IPPROTO_TCP, unix.TCP_NODELAY); v != 0 {
		t.Fatalf("TCP_NODELAY defaults to %d, want 0 (Nagle on)", v)
	}
	if err := so.SetOptionInt(unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		t.Fatal(err)
	}
	if v, _ := so.OptionInt(unix.IPPROTO_TCP, unix.TCP_NODELAY); v != 1 {
		t.Fatalf("TCP_NODELAY after set = %d", v)
	}
}

func TestTableDescriptors(t *testing.T) {
	n := testnet.New(t)
	tab := socket.NewTable()
	so, err := socket.New(n.A.Gvisor(), unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := tab.Add(so)
	if err != nil {
		t.Fatal(err)
	}
	// The number is a live host descriptor, so nothing else can take it.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		t.Fatalf("placeholder fd %d not open: %v", fd, err)
	}
	if got, err := tab.Get(fd); err != nil || got != so {
		t.Fatalf("get: %v", err)
	}
	if err := tab.Close(fd); err != nil {
		t.Fatal(err)
	}
	if _, err := tab.Get(fd); !errors.Is(err, unix.EBADF) {
		t.Fatalf("get after close: %v, want EBADF", err)
	}
	if err := tab.Close(fd); !errors.Is(err, unix.EBADF) {
		t.Fatalf("double close: %v, want EBADF", err)
	}
	for _, bad := range []int{-1, socket.MaxDescriptors, 1 << 30} {
		if _, err := tab.Get(bad); !errors.Is(err, unix.EBADF) {
			t.Fatalf("get(%d): %v", bad, err)
		}
	}
	if tab.Len() != 0 {
		t.Fatalf("len %d after close", tab.Len())
	}
}

// TestTableDescriptorCloexec: a number is close-on-exec exactly when asked,
// each number's flag is its own (the numbers are duplicates of one
// descriptor), none polls ready, and Close closes the number.
func TestTableDescriptorCloexec(t *testing.T) {
	n := testnet.New(t)
	tab := socket.NewTable()
	add := func(cloexec bool) int {
		t.Helper()
		so, err := socket.New(n.A.Gvisor(), unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		fd, err := tab.AddCloexec(so, cloexec)
		if err != nil {
			t.Fatal(err)
		}
		return fd
	}
	flag := func(fd int) int {
		t.Helper()
		v, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			t.Fatalf("F_GETFD %d: %v", fd, err)
		}
		return v & unix.FD_CLOEXEC
	}
	plain, exec := add(false), add(true)
	if plain == exec {
		t.Fatalf("two sockets share descriptor %d", plain)
	}
	if flag(plain) != 0 || flag(exec) != unix.FD_CLOEXEC {
		t.Fatalf("FD_CLOEXEC %d and %d, want 0 and %d", flag(plain), flag(exec), unix.FD_CLOEXEC)
	}
	if _, err := unix.FcntlInt(uintptr(plain), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(uintptr(exec), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	if flag(plain) != unix.FD_CLOEXEC || flag(exec) != 0 {
		t.Fatalf("after swapping: FD_CLOEXEC %d and %d, want %d and 0", flag(plain), flag(exec), unix.FD_CLOEXEC)
	}
	// A placeholder never reads as ready: nothing writes its source.
	fds := []unix.PollFd{{Fd: int32(plain), Events: unix.POLLIN}, {Fd: int32(exec), Events: unix.POLLIN}}
	if k, err := unix.Poll(fds, 0); err != nil || k != 0 {
		t.Fatalf("poll on placeholders: %d ready, %v", k, err)
	}
	for _, fd := range []int{plain, exec} {
		if err := tab.Close(fd); err != nil {
			t.Fatal(err)
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
			t.Fatalf("descriptor %d still open after Close: %v", fd, err)
		}
	}
}
