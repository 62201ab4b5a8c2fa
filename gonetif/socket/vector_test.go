package socket_test

import (
	"errors"
	"math"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/socket"
)

// kernelVector runs the kernel's readv/writev (VectorRW) or
// recvmsg/sendmsg (VectorMsg) on a socketpair with data waiting, so the
// only possible failure is the vector's; it returns the errno or nil.
func kernelVector(t *testing.T, call socket.VectorCall, write bool, count uint64, iov []unix.Iovec) error {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	if _, err := unix.Write(fds[1], make([]byte, 64)); err != nil {
		t.Fatal(err)
	}
	var base unsafe.Pointer
	if iov != nil {
		base = unsafe.Pointer(&iov[0])
	}
	var errno unix.Errno
	switch {
	case call == socket.VectorRW && write:
		_, _, errno = unix.Syscall(unix.SYS_WRITEV, uintptr(fds[0]), uintptr(base), uintptr(count))
	case call == socket.VectorRW:
		_, _, errno = unix.Syscall(unix.SYS_READV, uintptr(fds[0]), uintptr(base), uintptr(count))
	default:
		msg := unix.Msghdr{Iov: (*unix.Iovec)(base), Iovlen: count}
		nr := uintptr(unix.SYS_RECVMSG)
		if write {
			nr = unix.SYS_SENDMSG
		}
		_, _, errno = unix.Syscall(nr, uintptr(fds[0]), uintptr(unsafe.Pointer(&msg)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// TestVectorLenMatchesKernel holds VectorLen's answers to the kernel's for
// the same vectors, on both call families and directions.
func TestVectorLenMatchesKernel(t *testing.T) {
	buf := make([]byte, 2048)
	ok := func(n int) []unix.Iovec {
		iov := make([]unix.Iovec, n)
		for i := range iov {
			iov[i].Base = &buf[i%len(buf)]
			iov[i].SetLen(1)
		}
		return iov
	}
	nullBase := ok(3)
	nullBase[1].Base = nil
	nullBaseEmpty := ok(3)
	nullBaseEmpty[1].Base = nil
	nullBaseEmpty[1].SetLen(0)
	negative := ok(2)
	negative[1].Len = math.MaxUint64 // (ssize_t)-1
	cases := []struct {
		name  string
		count uint64
		iov   []unix.Iovec
	}{
		{"empty", 0, nil},
		{"one", 1, ok(1)},
		{"max", socket.MaxIOV, ok(socket.MaxIOV)},
		{"max+1", socket.MaxIOV + 1, ok(socket.MaxIOV + 1)},
		{"100000", 100000, ok(100000)},
		{"null array", 1, nil},
		{"null array, count 0", 0, nil},
		{"null base", 3, nullBase},
		{"null base, length 0", 3, nullBaseEmpty},
		{"length -1", 2, negative},
	}
	for _, call := range []socket.VectorCall{socket.VectorRW, socket.VectorMsg} {
		for _, write := range []bool{false, true} {
			for _, tc := range cases {
				got := error(nil)
				if _, err := socket.VectorLen(call, tc.count, tc.iov); err != nil {
					got = err
				}
				want := kernelVector(t, call, write, tc.count, tc.iov)
				if !errors.Is(got, want) {
					t.Errorf("call %d write %v %s: VectorLen %v, kernel %v", call, write, tc.name, got, want)
				}
			}
		}
	}
}

// TestVectorLenTotal checks the sum and the SSIZE_MAX bound, which the
// kernel cannot show without faulting on the huge ranges first.
func TestVectorLenTotal(t *testing.T) {
	var b [4]byte
	iov := []unix.Iovec{{Base: &b[0], Len: 3}, {Base: nil, Len: 0}, {Base: &b[1], Len: 2}}
	if n, err := socket.VectorLen(socket.VectorRW, 3, iov); n != 5 || err != nil {
		t.Fatalf("total %d, %v; want 5", n, err)
	}
	huge := []unix.Iovec{{Base: &b[0], Len: math.MaxInt64}, {Base: &b[1], Len: 1}}
	if _, err := socket.VectorLen(socket.VectorMsg, 2, huge); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("total above SSIZE_MAX: %v, want EINVAL", err)
	}
}

func TestMsgNameLen(t *testing.T) {
	for _, tc := range []struct {
		in, want uint32
		err      error
	}{{0, 0, nil}, {16, 16, nil}, {128, 128, nil}, {129, 128, nil}, {1 << 30, 128, nil}, {math.MaxUint32, 0, unix.EINVAL}, {1 << 31, 0, unix.EINVAL}} {
		got, err := socket.MsgNameLen(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("MsgNameLen(%d) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestRecvReturn: MSG_TRUNC reports a datagram's whole length, as Linux,
// and never changes a stream's count.
func TestRecvReturn(t *testing.T) {
	res := socket.RecvResult{N: 4, Total: 10}
	dgram, stream := &socket.Socket{Type: unix.SOCK_DGRAM}, &socket.Socket{Type: unix.SOCK_STREAM}
	if n := dgram.RecvReturn(res, true); n != 10 {
		t.Errorf("datagram, MSG_TRUNC: %d, want 10", n)
	}
	if n := dgram.RecvReturn(res, false); n != 4 {
		t.Errorf("datagram: %d, want 4", n)
	}
	if n := stream.RecvReturn(res, true); n != 4 {
		t.Errorf("stream, MSG_TRUNC: %d, want 4", n)
	}
	if f := dgram.RecvMsgFlags(res, 4); f != unix.MSG_TRUNC {
		t.Errorf("datagram cut: msg_flags %#x, want MSG_TRUNC", f)
	}
	if f := dgram.RecvMsgFlags(socket.RecvResult{N: 4, Total: 4}, 4); f != 0 {
		t.Errorf("datagram that fit: msg_flags %#x", f)
	}
	if f := stream.RecvMsgFlags(res, 4); f != 0 {
		t.Errorf("stream: msg_flags %#x", f)
	}
}
