package socket_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// The sockaddr rules of sockaddr.go, held to the kernel's answers for
// the same bytes and lengths on kernel sockets of this process (bound to
// the wildcard or loopback only; nothing is sent off the machine).

// addrCase is one address argument: a NULL pointer, or len bytes of sa
// (the buffer is longer, so a claimed length past the address is read
// as zeros by both sides).
type addrCase struct {
	name string
	null bool
	sa   []byte
	len  uint32
}

func (c addrCase) arg() socket.AddrArg {
	a := socket.AddrArg{Len: c.len}
	if !c.null {
		a.B = c.sa[:min(int(c.len), len(c.sa))]
	}
	return a
}

// kernelAddrCall runs syscall nr (bind, connect) on fd with the case's
// pointer and length and returns its errno (nil on success).
func kernelAddrCall(nr uintptr, fd int, c addrCase) error {
	var p unsafe.Pointer
	if !c.null {
		p = unsafe.Pointer(&c.sa[0])
	}
	if _, _, e := unix.Syscall(nr, uintptr(fd), uintptr(p), uintptr(c.len)); e != 0 {
		return e
	}
	return nil
}

// rawSockaddr is a 256-byte buffer holding family, port (big-endian)
// and, at its family's offset, addr.
func rawSockaddr(family uint16, port uint16, addr []byte) []byte {
	b := make([]byte, 256)
	binary.NativeEndian.PutUint16(b, family)
	binary.BigEndian.PutUint16(b[2:], port)
	if family == unix.AF_INET6 {
		copy(b[8:], addr)
	} else {
		copy(b[4:], addr)
	}
	return b
}

var (
	anyV4      = []byte{0, 0, 0, 0}
	loopV4     = []byte{127, 0, 0, 1}
	anyV6      = make([]byte, 16)
	sockFamily = map[int]string{unix.AF_INET: "AF_INET", unix.AF_INET6: "AF_INET6"}
)

// lengthCases are the length rules every address argument shares.
func lengthCases(sa []byte) []addrCase {
	return []addrCase{
		{"NULL, 0", true, nil, 0},
		{"NULL, 16", true, nil, 16},
		{"len -1", false, sa, 0xffffffff},
		{"len 129", false, sa, 129},
		{"len 128", false, sa, 128},
		{"len 0", false, sa, 0},
		{"len 1", false, sa, 1},
		{"len 2", false, sa, 2},
		{"len 15", false, sa, 15},
		{"len 16", false, sa, 16},
		{"len 23", false, sa, 23},
		{"len 24", false, sa, 24},
		{"len 27", false, sa, 27},
		{"len 28", false, sa, 28},
	}
}

func kernelSocketOrSkip(t *testing.T, family, typ int) int {
	t.Helper()
	fd, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no kernel %s socket here: %v", sockFamily[family], err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func sameErr(got, want error) bool {
	if want == nil {
		return got == nil
	}
	return errors.Is(got, want)
}

// TestBindAddressMatchesKernel: every case, on a fresh kernel UDP socket
// of each family, fails as BindAddress does; where both succeed, the
// kernel's bound address is the one BindAddress decoded.
func TestBindAddressMatchesKernel(t *testing.T) {
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		own, ownAny := rawSockaddr(unix.AF_INET, 0, anyV4), anyV4
		other := rawSockaddr(unix.AF_INET6, 0, anyV6)
		if fam == unix.AF_INET6 {
			own, other, ownAny = other, own, anyV6
		}
		cases := lengthCases(own)
		cases = append(cases,
			addrCase{"other family, len 16", false, other, 16},
			addrCase{"other family, len 28", false, other, 28},
			addrCase{"family 99, len 28", false, rawSockaddr(99, 0, ownAny), 28},
			addrCase{"AF_UNSPEC any, len 16", false, rawSockaddr(unix.AF_UNSPEC, 0, anyV4), 16},
			addrCase{"AF_UNSPEC any, len 28", false, rawSockaddr(unix.AF_UNSPEC, 0, anyV6), 28},
			addrCase{"AF_UNSPEC loopback, len 16", false, rawSockaddr(unix.AF_UNSPEC, 0, loopV4), 16},
		)
		for _, c := range cases {
			fd := kernelSocketOrSkip(t, fam, unix.SOCK_DGRAM)
			want := kernelAddrCall(unix.SYS_BIND, fd, c)
			full, got := socket.BindAddress(fam, c.arg())
			if !sameErr(got, want) {
				t.Errorf("%s %s: BindAddress %v, kernel %v", sockFamily[fam], c.name, got, want)
				continue
			}
			if want != nil {
				continue
			}
			sa, err := unix.Getsockname(fd)
			if err != nil {
				t.Fatal(err)
			}
			if kernelAddr := sockaddrAddr(sa); full.Addr.BitLen() != 0 && full.Addr != kernelAddr {
				t.Errorf("%s %s: decoded %v, kernel bound %v", sockFamily[fam], c.name, full.Addr, kernelAddr)
			}
		}
	}
}

func sockaddrAddr(sa unix.Sockaddr) tcpip.Address {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		if sa.Addr == [4]byte{} {
			return tcpip.Address{}
		}
		return tcpip.AddrFrom4(sa.Addr)
	case *unix.SockaddrInet6:
		if sa.Addr == [16]byte{} {
			return tcpip.Address{}
		}
		return tcpip.AddrFrom16(sa.Addr)
	}
	return tcpip.Address{}
}

// TestConnectAddressMatchesKernel: a kernel UDP socket (connect sends
// nothing) answers as ConnectAddress, AF_UNSPEC included.
func TestConnectAddressMatchesKernel(t *testing.T) {
	own := rawSockaddr(unix.AF_INET, 9, loopV4)
	cases := append(lengthCases(own),
		addrCase{"AF_UNSPEC, len 2", false, rawSockaddr(unix.AF_UNSPEC, 0, nil), 2},
		addrCase{"AF_UNSPEC, len 16", false, rawSockaddr(unix.AF_UNSPEC, 9, loopV4), 16},
		addrCase{"AF_INET6, len 28", false, rawSockaddr(unix.AF_INET6, 9, anyV6), 28},
		addrCase{"family 99, len 16", false, rawSockaddr(99, 9, loopV4), 16},
	)
	for _, c := range cases {
		fd := kernelSocketOrSkip(t, unix.AF_INET, unix.SOCK_DGRAM)
		want := kernelAddrCall(unix.SYS_CONNECT, fd, c)
		full, disconnect, got := socket.ConnectAddress(unix.AF_INET, c.arg())
		if !sameErr(got, want) {
			t.Errorf("%s: ConnectAddress %v, kernel %v", c.name, got, want)
			continue
		}
		if got == nil && !disconnect && full != (tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte(loopV4)), Port: 9}) {
			t.Errorf("%s: decoded %+v", c.name, full)
		}
		if wantUnspec := c.len >= 2 && !c.null && binary.NativeEndian.Uint16(c.sa) == unix.AF_UNSPEC; got == nil && disconnect != wantUnspec {
			t.Errorf("%s: disconnect %v", c.name, disconnect)
		}
	}
}

// TestSendTargetMatchesKernel: sendto's address on a kernel UDP socket
// sending to itself on loopback, and on an unconnected TCP socket (which
// checks the length and then ignores the address: EPIPE).
func TestSendTargetMatchesKernel(t *testing.T) {
	self := kernelSocketOrSkip(t, unix.AF_INET, unix.SOCK_DGRAM)
	if err := unix.Bind(self, &unix.SockaddrInet4{Addr: [4]byte(loopV4)}); err != nil {
		t.Skipf("no loopback here: %v", err)
	}
	sa, _ := unix.Getsockname(self)
	port := uint16(sa.(*unix.SockaddrInet4).Port)
	own := rawSockaddr(unix.AF_INET, port, loopV4)
	cases := append(lengthCases(own),
		addrCase{"AF_INET6, len 28", false, rawSockaddr(unix.AF_INET6, port, anyV6), 28},
		addrCase{"family 99, len 16", false, rawSockaddr(99, port, loopV4), 16},
		addrCase{"AF_UNSPEC, len 16", false, rawSockaddr(unix.AF_UNSPEC, port, loopV4), 16},
	)
	stream := kernelSocketOrSkip(t, unix.AF_INET, unix.SOCK_STREAM)
	for _, c := range cases {
		if c.null {
			continue // no address: the socket's own peer, not the argument's rules
		}
		p := unsafe.Pointer(&c.sa[0])
		_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(self), uintptr(unsafe.Pointer(&own[0])), 1,
			unix.MSG_DONTWAIT, uintptr(p), uintptr(c.len))
		var want error
		if e != 0 {
			want = e
		}
		to, got := socket.SendTarget(unix.AF_INET, unix.SOCK_DGRAM, c.arg())
		if !sameErr(got, want) {
			t.Errorf("datagram %s: SendTarget %v, kernel %v", c.name, got, want)
		} else if got == nil && (to == nil || to.Port != port) {
			t.Errorf("datagram %s: target %+v", c.name, to)
		}
		_, _, e = unix.Syscall6(unix.SYS_SENDTO, uintptr(stream), uintptr(unsafe.Pointer(&own[0])), 1,
			unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, uintptr(p), uintptr(c.len))
		to, got = socket.SendTarget(unix.AF_INET, unix.SOCK_STREAM, c.arg())
		if e == unix.EPIPE {
			e = 0 // the address passed; the unconnected socket then fails
		}
		want = nil
		if e != 0 {
			want = e
		}
		if !sameErr(got, want) || to != nil {
			t.Errorf("stream %s: SendTarget %v %v, kernel %v", c.name, to, got, want)
		}
	}
	// Drain what the self-sends queued, so nothing is left unread.
	buf := make([]byte, 16)
	for {
		if _, _, err := unix.Recvfrom(self, buf, unix.MSG_DONTWAIT); err != nil {
			break
		}
	}
}

// TestAddrOutMatchesKernel: Put writes what the kernel's getsockname
// writes for every buffer length, and the same length back.
func TestAddrOutMatchesKernel(t *testing.T) {
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		fd := kernelSocketOrSkip(t, fam, unix.SOCK_DGRAM)
		var bound unix.Sockaddr = &unix.SockaddrInet4{Addr: [4]byte(loopV4)}
		if fam == unix.AF_INET6 {
			bound = &unix.SockaddrInet6{Addr: [16]byte{15: 1}}
		}
		if err := unix.Bind(fd, bound); err != nil {
			t.Logf("%s: no loopback address here: %v", sockFamily[fam], err)
			continue
		}
		sa, _ := unix.Getsockname(fd)
		var full tcpip.FullAddress
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			full = tcpip.FullAddress{Addr: tcpip.AddrFrom4(sa.Addr), Port: uint16(sa.Port)}
		case *unix.SockaddrInet6:
			full = tcpip.FullAddress{Addr: tcpip.AddrFrom16(sa.Addr), Port: uint16(sa.Port)}
		}
		for _, room := range []uint32{0, 1, 2, 3, 8, 15, 16, 17, 24, 27, 28, 29, 64, 0xffffffff} {
			kbuf, gbuf := bytes.Repeat([]byte{0xaa}, 64), bytes.Repeat([]byte{0xaa}, 64)
			klen, glen := room, room
			_, _, e := unix.Syscall(unix.SYS_GETSOCKNAME, uintptr(fd), uintptr(unsafe.Pointer(&kbuf[0])), uintptr(unsafe.Pointer(&klen)))
			var want error
			if e != 0 {
				want = e
			}
			out := socket.AddrOut{Buf: gbuf[:min(int(max(int32(room), 0)), unix.SizeofSockaddrInet6)], Len: &glen}
			got := out.Put(fam, full)
			name := fmt.Sprintf("%s room %d", sockFamily[fam], int32(room))
			if !sameErr(got, want) || klen != glen || !bytes.Equal(kbuf, gbuf) {
				t.Errorf("%s: Put %v len %d % x; kernel %v len %d % x", name, got, glen, gbuf[:32], want, klen, kbuf[:32])
			}
		}
	}
}

// TestAcceptNullLengthMatchesKernel: accept with an address buffer but
// no length word is EFAULT in the kernel; ReportPeer says the same, and
// with neither pointer reports nothing.
func TestAcceptNullLengthMatchesKernel(t *testing.T) {
	ln := kernelSocketOrSkip(t, unix.AF_INET, unix.SOCK_STREAM)
	if err := unix.Bind(ln, &unix.SockaddrInet4{Addr: [4]byte(loopV4)}); err != nil {
		t.Skipf("no loopback here: %v", err)
	}
	if err := unix.Listen(ln, 4); err != nil {
		t.Fatal(err)
	}
	lsa, _ := unix.Getsockname(ln)
	cli, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(cli)
	if err := unix.Connect(cli, lsa); err != nil {
		t.Fatal(err)
	}
	var pfd = []unix.PollFd{{Fd: int32(ln), Events: unix.POLLIN}}
	if n, _ := unix.Poll(pfd, 2000); n != 1 {
		t.Fatal("no connection to accept within 2 s")
	}
	buf := make([]byte, 16)
	nfd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(ln), uintptr(unsafe.Pointer(&buf[0])), 0, 0, 0, 0)
	if e == 0 {
		unix.Close(int(nfd))
	}
	so := &socket.Socket{Family: unix.AF_INET, Type: unix.SOCK_STREAM}
	peer := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte(loopV4)), Port: 1}
	if got := so.ReportPeer(socket.AddrOut{Buf: buf}, peer); !sameErr(got, e) || e == 0 {
		t.Errorf("buffer, no length: ReportPeer %v, kernel %v", got, e)
	}
	if got := so.ReportPeer(socket.AddrOut{}, peer); got != nil {
		t.Errorf("no buffer, no length: ReportPeer %v, want nil", got)
	}
}

// TestNameNeedsBothPointers: getsockname and getpeername fault on a
// missing buffer or length, as the kernel does.
func TestNameNeedsBothPointers(t *testing.T) {
	n := testnet.New(t)
	so := mustSocket(t, n, false, unix.SOCK_DGRAM)
	var l uint32 = 16
	buf := make([]byte, 16)
	for _, out := range []socket.AddrOut{{}, {Buf: buf}, {Len: &l}} {
		if err := so.Name(false, out); !errors.Is(err, unix.EFAULT) {
			t.Errorf("Name(%v, %v): %v, want EFAULT", out.Buf != nil, out.Len != nil, err)
		}
	}
	if err := so.Name(false, socket.AddrOut{Buf: buf, Len: &l}); err != nil || l != unix.SizeofSockaddrInet4 {
		t.Errorf("Name: %v, len %d", err, l)
	}
}

// TestRecvFromStepAddress: recvfrom's address rules, as the conformance
// suite found Linux's: a buffer without a length faults before any data
// moves; a stream reports length 0; a length that cannot be written back
// fails the call after the data was taken; a datagram's sender is
// written, cut to the room given, with its full length.
func TestRecvFromStepAddress(t *testing.T) {
	n := testnet.New(t)
	cli, srv := tcpPair(t, n, 5300)
	recv := func(so *socket.Socket, from socket.AddrOut) (int, error) {
		var c socket.Call
		res, err := so.RecvFromStep(&c, make([]byte, 8), from, socket.RecvFlags{DontWait: true})
		return res.N, err
	}
	if _, err := srv.Send([]byte("ab"), nil, socket.SendFlags{}); err != nil {
		t.Fatal(err)
	}
	wait(t, cli, uint64(waiter.EventIn))
	buf := make([]byte, 16)
	if _, err := recv(cli, socket.AddrOut{Buf: buf}); !errors.Is(err, unix.EFAULT) {
		t.Fatalf("buffer without length: %v, want EFAULT", err)
	}
	l := uint32(16)
	if got, err := recv(cli, socket.AddrOut{Buf: buf, Len: &l}); got != 2 || err != nil || l != 0 {
		t.Fatalf("stream: %d %v len %d; want 2 bytes, length 0 (the data stayed after EFAULT)", got, err, l)
	}
	if _, err := srv.Send([]byte("cd"), nil, socket.SendFlags{}); err != nil {
		t.Fatal(err)
	}
	wait(t, cli, uint64(waiter.EventIn))
	l = 0xffffffff
	if _, err := recv(cli, socket.AddrOut{Buf: buf[:0], Len: &l}); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("stream, length -1: %v, want EINVAL", err)
	}
	if got, err := recv(cli, socket.AddrOut{}); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("after EINVAL: %d %v; want the data gone (EAGAIN)", got, err)
	}

	u := mustSocket(t, n, true, unix.SOCK_DGRAM)
	if err := u.Bind(addr(ipB, 5301)); err != nil {
		t.Fatal(err)
	}
	s := mustSocket(t, n, false, unix.SOCK_DGRAM)
	to := addr(ipB, 5301)
	if _, err := s.Send([]byte("x"), &to, socket.SendFlags{}); err != nil {
		t.Fatal(err)
	}
	wait(t, u, uint64(waiter.EventIn))
	short := bytes.Repeat([]byte{0xee}, 4)
	l = 4
	if got, err := recv(u, socket.AddrOut{Buf: short, Len: &l}); got != 1 || err != nil || l != unix.SizeofSockaddrInet4 {
		t.Fatalf("datagram: %d %v len %d; want 1 byte, length 16", got, err, l)
	}
	want := socket.EncodeSockaddr(unix.AF_INET, tcpip.FullAddress{Addr: tcpip.AddrFrom4(ipA)})
	if binary.BigEndian.Uint16(short[2:]) == 0 || !bytes.Equal(short[:2], want.B[:2]) {
		t.Fatalf("sender cut to 4 bytes: % x, want family and a port", short)
	}
}

// TestAddrOutPutAllocatesNothing: reporting a sender (every recvfrom
// with an address) stays off the heap.
func TestAddrOutPutAllocatesNothing(t *testing.T) {
	buf := make([]byte, unix.SizeofSockaddrInet6)
	l := uint32(len(buf))
	full := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte(loopV4)), Port: 9}
	if n := testing.AllocsPerRun(100, func() {
		l = uint32(len(buf))
		socket.AddrOut{Buf: buf, Len: &l}.Put(unix.AF_INET6, full)
	}); n != 0 {
		t.Fatalf("%v allocations a Put, want 0", n)
	}
}
