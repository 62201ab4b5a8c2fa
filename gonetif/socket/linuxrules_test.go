package socket_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// Linux behaviour the conformance suite found gonetif without, checked
// here for Go callers over the in-process pair of stacks.

func socket6(t *testing.T, n *testnet.Net, typ int, v6only bool) *socket.Socket {
	t.Helper()
	so, err := socket.New(n.A.Gvisor(), unix.AF_INET6, typ|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { so.Close() })
	if err := so.SetOptionInt(unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolInt(v6only)); err != nil {
		t.Fatal(err)
	}
	return so
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func mapped(a [4]byte, port uint16) tcpip.FullAddress {
	var m [16]byte
	m[10], m[11] = 0xff, 0xff
	copy(m[12:], a[:])
	return tcpip.FullAddress{Addr: tcpip.AddrFrom16(m), Port: port}
}

// recvString is one non-blocking receive after waiting for it.
func recvString(t *testing.T, so *socket.Socket, flags socket.RecvFlags) string {
	t.Helper()
	wait(t, so, uint64(socket.EventIn))
	buf := make([]byte, 100)
	res, err := so.Recv(buf, flags)
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	return string(buf[:res.N])
}

// An AF_INET6 UDP socket sends to a sockaddr_in over IPv4 (not EINVAL),
// takes AF_UNSPEC as no address, and under IPV6_V6ONLY refuses IPv4
// destinations with ENETUNREACH, as Linux.
func TestUDP6SendToIPv4Destinations(t *testing.T) {
	n := testnet.New(t)
	srv := mustSocket(t, n, true, unix.SOCK_DGRAM)
	if err := srv.Bind(addr(ipB, 7100)); err != nil {
		t.Fatal(err)
	}
	sin := rawSockaddr(unix.AF_INET, 7100, ipB[:])
	dual := socket6(t, n, unix.SOCK_DGRAM, false)
	to, err := dual.SendTargetArg(socket.AddrArg{B: sin[:16], Len: 16})
	if err != nil {
		t.Fatalf("sockaddr_in on a dual socket: %v", err)
	}
	if n, err := dual.Send([]byte("v4"), to, socket.SendFlags{}); n != 2 || err != nil {
		t.Fatalf("send to %v: %d %v", to, n, err)
	}
	if got := recvString(t, srv, socket.RecvFlags{}); got != "v4" {
		t.Fatalf("received %q", got)
	}
	unspec := rawSockaddr(unix.AF_UNSPEC, 7100, ipB[:])
	for _, c := range []struct {
		name string
		arg  socket.AddrArg
		want error
	}{
		{"AF_INET len 8", socket.AddrArg{B: sin[:8], Len: 8}, unix.EINVAL},
		{"AF_UNSPEC", socket.AddrArg{B: unspec[:28], Len: 28}, nil},
		{"family 99", socket.AddrArg{B: rawSockaddr(99, 1, nil)[:28], Len: 28}, unix.EINVAL},
		{"len 1", socket.AddrArg{B: sin[:1], Len: 1}, unix.EINVAL},
	} {
		to, err := dual.SendTargetArg(c.arg)
		if !sameErr(err, c.want) || (err == nil && to != nil) {
			t.Errorf("%s: %v %v, want no target and %v", c.name, to, err, c.want)
		}
	}
	if _, err := dual.Send([]byte("x"), nil, socket.SendFlags{}); !errors.Is(err, unix.EDESTADDRREQ) {
		t.Errorf("AF_UNSPEC unconnected: %v, want EDESTADDRREQ", err)
	}

	only := socket6(t, n, unix.SOCK_DGRAM, true)
	if _, err := only.SendTargetArg(socket.AddrArg{B: sin[:8], Len: 8}); !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("v6only, sockaddr_in len 8: %v, want ENETUNREACH", err)
	}
	m := mapped(ipB, 7100)
	if _, err := only.Send([]byte("x"), &m, socket.SendFlags{}); !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("v6only, v4-mapped: %v, want ENETUNREACH", err)
	}
	if err := only.ConnectArgStep(&socket.Call{}, socket.AddrArg{B: sin[:16], Len: 16}); !errors.Is(err, unix.EAFNOSUPPORT) {
		t.Errorf("v6only connect sockaddr_in: %v, want EAFNOSUPPORT", err)
	}
	if err := dual.ConnectArgStep(&socket.Call{}, socket.AddrArg{B: sin[:16], Len: 16}); err != nil {
		t.Errorf("dual connect sockaddr_in: %v", err)
	}
	tcp := socket6(t, n, unix.SOCK_STREAM, true)
	if err := tcp.Connect(m); !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("v6only TCP connect v4-mapped: %v, want ENETUNREACH", err)
	}
}

// MSG_MORE and UDP_CORK gather sends into one datagram (gVisor refused
// MSG_MORE with EINVAL); the first part's destination holds.
func TestUDPCork(t *testing.T) {
	n := testnet.New(t)
	srv := mustSocket(t, n, true, unix.SOCK_DGRAM)
	if err := srv.Bind(addr(ipB, 7101)); err != nil {
		t.Fatal(err)
	}
	cli := mustSocket(t, n, false, unix.SOCK_DGRAM)
	to, elsewhere := addr(ipB, 7101), addr(ipB, 7102)
	for i, part := range []string{"ab", "cd", "ef"} {
		dst := &to
		if i > 0 {
			dst = &elsewhere // ignored: the first part chose
		}
		if n, err := cli.Send([]byte(part), dst, socket.SendFlags{More: i < 2}); n != 2 || err != nil {
			t.Fatalf("send %q: %d %v", part, n, err)
		}
	}
	if got := recvString(t, srv, socket.RecvFlags{}); got != "abcdef" {
		t.Fatalf("received %q, want one datagram abcdef", got)
	}

	if err := cli.SetOptionInt(unix.IPPROTO_UDP, unix.UDP_CORK, 1); err != nil {
		t.Fatal(err)
	}
	cli.Send([]byte("x"), &to, socket.SendFlags{})
	cli.Send([]byte("y"), &to, socket.SendFlags{})
	if v, err := cli.OptionInt(unix.IPPROTO_UDP, unix.UDP_CORK); v != 1 || err != nil {
		t.Errorf("UDP_CORK reads %d %v", v, err)
	}
	time.Sleep(50 * time.Millisecond)
	if r := srv.Readiness(socket.EventIn); r != 0 {
		t.Fatal("a corked datagram left")
	}
	if err := cli.SetOptionInt(unix.IPPROTO_UDP, unix.UDP_CORK, 0); err != nil {
		t.Fatal(err)
	}
	if got := recvString(t, srv, socket.RecvFlags{}); got != "xy" {
		t.Fatalf("received %q after uncorking, want xy", got)
	}

	lone := mustSocket(t, n, false, unix.SOCK_DGRAM)
	if _, err := lone.Send([]byte("x"), nil, socket.SendFlags{More: true}); !errors.Is(err, unix.EDESTADDRREQ) {
		t.Errorf("MSG_MORE without a destination: %v, want EDESTADDRREQ", err)
	}
	big := make([]byte, 40000)
	cli.Send(big, &to, socket.SendFlags{More: true})
	if _, err := cli.Send(big, &to, socket.SendFlags{More: true}); !errors.Is(err, unix.EMSGSIZE) {
		t.Errorf("80000 corked bytes: %v, want EMSGSIZE", err)
	}
	cli.Send([]byte("z"), &to, socket.SendFlags{}) // the dropped parts do not come back
	if got := recvString(t, srv, socket.RecvFlags{}); got != "z" {
		t.Errorf("after EMSGSIZE received %q, want z", got)
	}
}

// A UDP socket shut for reading keeps taking datagrams (gVisor dropped
// them); with none queued a blocking receive returns 0 at once.
func TestUDPShutReadKeepsReceiving(t *testing.T) {
	n := testnet.New(t)
	srv := blockingSocket(t, n, true, unix.SOCK_DGRAM)
	if err := srv.Bind(addr(ipB, 7103)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(unix.SHUT_RD); !errors.Is(err, unix.ENOTCONN) {
		t.Fatalf("shutdown of an unconnected socket: %v, want ENOTCONN", err)
	}
	if r := srv.Readiness(socket.EventIn); r == 0 {
		t.Error("not readable once shut for reading")
	}
	start := time.Now()
	if res, err := srv.Recv(make([]byte, 8), socket.RecvFlags{}); err != nil || res.N != 0 {
		t.Errorf("blocking recv, shut and empty: %+v %v, want 0", res, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("blocking recv waited %v", d)
	}
	cli := mustSocket(t, n, false, unix.SOCK_DGRAM)
	to := addr(ipB, 7103)
	cli.Send([]byte("late"), &to, socket.SendFlags{})
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 8)
		res, err := srv.Recv(buf, socket.RecvFlags{DontWait: true})
		if err == nil && res.N > 0 {
			if string(buf[:res.N]) != "late" {
				t.Fatalf("received %q", buf[:res.N])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the datagram sent after SHUT_RD never came: %+v %v", res, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// MSG_TRUNC on a stream takes bytes without copying them; MSG_ERRQUEUE
// finds the (never kept) error queue empty and leaves the data.
func TestStreamTruncAndErrQueue(t *testing.T) {
	n := testnet.New(t)
	cli, srv := tcpPair(t, n, 7104)
	if _, err := cli.Send([]byte("0123"), nil, socket.SendFlags{}); err != nil {
		t.Fatal(err)
	}
	wait(t, srv, uint64(socket.EventIn))
	time.Sleep(20 * time.Millisecond)
	buf := []byte("..")
	if res, err := srv.Recv(buf, socket.RecvFlags{ErrQueue: true, DontWait: true}); !errors.Is(err, unix.EAGAIN) {
		t.Errorf("MSG_ERRQUEUE: %+v %v, want EAGAIN", res, err)
	}
	res, err := srv.Recv(buf, socket.RecvFlags{Trunc: true})
	if err != nil || res.N != 2 || !res.Discarded || string(buf) != ".." {
		t.Errorf("MSG_TRUNC: %+v %v, buffer %q; want 2 taken, buffer untouched", res, err, buf)
	}
	if got := recvString(t, srv, socket.RecvFlags{}); got != "23" {
		t.Errorf("after MSG_TRUNC received %q, want 23", got)
	}
}

// A listener shut for reading, or connected to AF_UNSPEC, stops
// listening (SO_ACCEPTCONN 0) until listen again.
func TestListenerStopsListening(t *testing.T) {
	n := testnet.New(t)
	for _, stop := range []func(*socket.Socket) error{
		func(l *socket.Socket) error { return l.Shutdown(unix.SHUT_RD) },
		func(l *socket.Socket) error { return l.Disconnect() },
	} {
		l := mustSocket(t, n, true, unix.SOCK_STREAM)
		if err := l.Listen(4); err != nil {
			t.Fatal(err)
		}
		if err := stop(l); err != nil {
			t.Fatal(err)
		}
		if v, _ := l.OptionInt(unix.SOL_SOCKET, unix.SO_ACCEPTCONN); v != 0 {
			t.Errorf("SO_ACCEPTCONN %d after it stopped", v)
		}
		if _, _, err := l.AcceptStep(&socket.Call{}); !errors.Is(err, unix.EINVAL) {
			t.Errorf("accept after it stopped: %v, want EINVAL", err)
		}
		if err := l.Listen(4); err != nil {
			t.Fatal(err)
		}
		if v, _ := l.OptionInt(unix.SOL_SOCKET, unix.SO_ACCEPTCONN); v != 1 {
			t.Errorf("SO_ACCEPTCONN %d after listen again", v)
		}
	}
}

// A bound socket given a foreign address answers EADDRNOTAVAIL (Linux
// checks the address first), its own address EINVAL.
func TestBindAgain(t *testing.T) {
	n := testnet.New(t)
	for _, typ := range []int{unix.SOCK_STREAM, unix.SOCK_DGRAM} {
		so := mustSocket(t, n, false, typ)
		if err := so.Bind(addr(ipA, 0)); err != nil {
			t.Fatal(err)
		}
		if err := so.Bind(addr([4]byte{10, 9, 9, 9}, 0)); !errors.Is(err, unix.EADDRNOTAVAIL) {
			t.Errorf("type %d, bound, foreign address: %v, want EADDRNOTAVAIL", typ, err)
		}
		if err := so.Bind(addr(ipA, 0)); !errors.Is(err, unix.EINVAL) {
			t.Errorf("type %d, bound, own address: %v, want EINVAL", typ, err)
		}
	}
}

// getsockopt at a level the socket has not: the kernel's IPv4 code says
// EOPNOTSUPP, its IPv6 code ENOPROTOOPT; gonetif said ENOPROTOOPT for all.
func TestGetsockoptMissingLevelMatchesKernel(t *testing.T) {
	n := testnet.New(t)
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		for _, typ := range []int{unix.SOCK_STREAM, unix.SOCK_DGRAM} {
			fd := kernelSocketOrSkip(t, fam, typ)
			so, err := socket.New(n.A.Gvisor(), fam, typ, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer so.Close()
			for _, lv := range [][2]int{
				{unix.IPPROTO_TCP, unix.TCP_NODELAY}, {unix.IPPROTO_IPV6, unix.IPV6_V6ONLY},
				{unix.IPPROTO_UDP, unix.UDP_CORK}, {999, 1}, {unix.IPPROTO_IP, 999},
				{unix.IPPROTO_IP, unix.IP_MULTICAST_IF},
			} {
				want, kerr := kernelGetsockopt(fd, lv[0], lv[1], 4)
				got, err := so.OptionArg(lv[0], lv[1], 4)
				if !sameErr(err, kerr) || !bytes.Equal(got, want) {
					t.Errorf("family %d type %d level %d name %d: %x %v, kernel %x %v",
						fam, typ, lv[0], lv[1], got, err, want, kerr)
				}
			}
		}
	}
}

// connect(AF_UNSPEC) on a connected stream resets the connection, reports
// ECONNRESET once and lets the socket connect again (it did nothing).
func TestStreamDisconnectAndReconnect(t *testing.T) {
	n := testnet.New(t)
	cli, srv := tcpPair(t, n, 7105)
	if err := cli.Disconnect(); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	if _, err := cli.RemoteAddr(); !errors.Is(err, unix.ENOTCONN) {
		t.Errorf("peer after disconnect: %v, want ENOTCONN", err)
	}
	if r := cli.Poll(uint32(socket.EventOut)); r&uint32(socket.EventErr) == 0 {
		t.Errorf("poll after disconnect %#x, want POLLERR", r)
	}
	if _, err := cli.Send([]byte("x"), nil, socket.SendFlags{NoSignal: true}); !errors.Is(err, unix.ECONNRESET) {
		t.Errorf("send after disconnect: %v, want ECONNRESET", err)
	}
	if v := cli.PendingError(); v != 0 {
		t.Errorf("SO_ERROR after the send took it: %v", v)
	}
	wait(t, srv, uint64(socket.EventIn))
	if _, err := srv.Recv(make([]byte, 4), socket.RecvFlags{}); !errors.Is(err, unix.ECONNRESET) {
		t.Errorf("the peer read %v, want ECONNRESET", err)
	}
	ln := blockingSocket(t, n, true, unix.SOCK_STREAM)
	if err := ln.Bind(addr(ipB, 7106)); err != nil {
		t.Fatal(err)
	}
	ln.Listen(1)
	if err := cli.Connect(addr(ipB, 7106)); err != nil {
		t.Fatalf("connect again: %v", err)
	}
	acc, _, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer acc.Release()
	cli.Send([]byte("again"), nil, socket.SendFlags{})
	if got := recvString(t, acc, socket.RecvFlags{}); got != "again" {
		t.Errorf("after reconnecting received %q", got)
	}
}

// FIOASYNC sets O_ASYNC; SIOCATMARK is 0 on a stream (no urgent data is
// kept) and a protocol's unknown request on a datagram socket.
func TestIoctlAsyncAndAtMark(t *testing.T) {
	n := testnet.New(t)
	cli, _ := tcpPair(t, n, 7107)
	on := int32(1)
	if err := cli.Ioctl(socket.IoctlFIOASYNC, &on); err != nil {
		t.Fatal(err)
	}
	if fl, _ := cli.Fcntl(unix.F_GETFL, 0); fl&unix.O_ASYNC == 0 {
		t.Errorf("F_GETFL %#x after FIOASYNC 1", fl)
	}
	mark := int32(7)
	if err := cli.Ioctl(socket.IoctlSIOCATMARK, &mark); err != nil || mark != 0 {
		t.Errorf("SIOCATMARK: %d %v", mark, err)
	}
	u := mustSocket(t, n, false, unix.SOCK_DGRAM)
	if err := u.Ioctl(socket.IoctlSIOCATMARK, &mark); !errors.Is(err, unix.ENOTTY) {
		t.Errorf("SIOCATMARK on UDP: %v, want ENOTTY", err)
	}
}

// TCP_SYNCNT stops at Linux's 127 (gVisor took any count), and a stream
// has no IPV6_MULTICAST_HOPS to set.
func TestSetOptionLimits(t *testing.T) {
	n := testnet.New(t)
	so := mustSocket(t, n, false, unix.SOCK_STREAM)
	if err := so.SetOptionInt(unix.IPPROTO_TCP, unix.TCP_SYNCNT, 127); err != nil {
		t.Errorf("TCP_SYNCNT 127: %v", err)
	}
	if err := so.SetOptionInt(unix.IPPROTO_TCP, unix.TCP_SYNCNT, 128); !errors.Is(err, unix.EINVAL) {
		t.Errorf("TCP_SYNCNT 128: %v, want EINVAL", err)
	}
	if v, _ := so.OptionInt(unix.IPPROTO_TCP, unix.TCP_SYNCNT); v != 127 {
		t.Errorf("TCP_SYNCNT reads %d after the refused 128", v)
	}
	tcp6 := socket6(t, n, unix.SOCK_STREAM, false)
	if err := tcp6.SetOptionInt(unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 5); !errors.Is(err, unix.ENOPROTOOPT) {
		t.Errorf("IPV6_MULTICAST_HOPS on TCP: %v, want ENOPROTOOPT", err)
	}
}
