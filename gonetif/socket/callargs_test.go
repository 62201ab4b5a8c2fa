package socket_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// kernelGetsockopt is the kernel's getsockopt into a buffer of room bytes
// (as a C int; negative too): the bytes it wrote, or its errno.
func kernelGetsockopt(fd, level, name int, room uint32) ([]byte, error) {
	buf := make([]byte, 64)
	n := room
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return nil, e
	}
	return buf[:n], nil
}

// TestOptionArgMatchesKernel: for every short and long buffer, OptionArg
// returns the bytes (and so the length) the kernel's getsockopt writes:
// IP_TTL as one byte, SO_TYPE and SO_LINGER cut, a negative length EINVAL.
func TestOptionArgMatchesKernel(t *testing.T) {
	n := testnet.New(t)
	so := mustSocket(t, n, false, unix.SOCK_DGRAM)
	fd := kernelSocketOrSkip(t, unix.AF_INET, unix.SOCK_DGRAM)
	for _, set := range []func(level, name, v int) error{
		func(level, name, v int) error { return unix.SetsockoptInt(fd, level, name, v) },
		so.SetOptionInt,
	} {
		if err := set(unix.IPPROTO_IP, unix.IP_TTL, 9); err != nil {
			t.Fatal(err)
		}
		if err := set(unix.IPPROTO_IP, unix.IP_TOS, 0x1000); err != nil {
			t.Logf("IP_TOS: %v", err) // an int no byte can hold, where taken
		}
	}
	opts := []struct {
		name         string
		level, name2 int
	}{
		{"IP_TTL", unix.IPPROTO_IP, unix.IP_TTL},
		{"SO_TYPE", unix.SOL_SOCKET, unix.SO_TYPE},
		{"SO_LINGER", unix.SOL_SOCKET, unix.SO_LINGER},
	}
	for _, o := range opts {
		for _, room := range []uint32{0, 1, 2, 3, 4, 5, 7, 8, 9, 64, 0xffffffff} {
			want, kerr := kernelGetsockopt(fd, o.level, o.name2, room)
			got, err := so.OptionArg(o.level, o.name2, room)
			if !sameErr(err, kerr) || !bytes.Equal(got, want) {
				t.Errorf("%s room %d: OptionArg % x %v, kernel % x %v", o.name, int32(room), got, err, want, kerr)
			}
		}
	}
}

// TestFitMinRoom: an interface name is EINVAL in a buffer shorter than
// IFNAMSIZ, even one that would hold it, and whole in a longer one, as
// the kernel's SO_BINDTODEVICE (checked against it where this process
// may bind a socket to a device).
func TestFitMinRoom(t *testing.T) {
	o := socket.OptValue{N: 3, MinRoom: unix.IFNAMSIZ}
	copy(o.B[:], "lo\x00")
	for _, room := range []uint32{0, 2, 3, 4, 15, 16, 17, 64} {
		got, err := o.Fit(room)
		if room < unix.IFNAMSIZ {
			if !errors.Is(err, unix.EINVAL) {
				t.Errorf("room %d: % x %v, want EINVAL", room, got, err)
			}
		} else if err != nil || string(got) != "lo\x00" {
			t.Errorf("room %d: %q %v, want \"lo\\x00\"", room, got, err)
		}
		fd := kernelSocketOrSkip(t, unix.AF_INET, unix.SOCK_DGRAM)
		if unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, "lo") != nil {
			continue // binding to a device needs CAP_NET_RAW
		}
		want, kerr := kernelGetsockopt(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, room)
		if !sameErr(err, kerr) || !bytes.Equal(got, want) {
			t.Errorf("room %d: Fit %q %v, kernel %q %v", room, got, err, want, kerr)
		}
	}
}

// TestSetOptionArgMatchesKernel: setsockopt's length and NULL rules, on
// the same arguments to a kernel UDP socket.
func TestSetOptionArgMatchesKernel(t *testing.T) {
	n := testnet.New(t)
	so := mustSocket(t, n, false, unix.SOCK_DGRAM)
	fd := kernelSocketOrSkip(t, unix.AF_INET, unix.SOCK_DGRAM)
	one := []byte{1, 0, 0, 0}
	tv := make([]byte, 16)
	cases := []struct {
		name       string
		level, opt int
		val        []byte
		n          uint32
	}{
		{"SO_REUSEADDR", unix.SOL_SOCKET, unix.SO_REUSEADDR, one, 4},
		{"SO_REUSEADDR len -1", unix.SOL_SOCKET, unix.SO_REUSEADDR, one, 0xffffffff},
		{"SO_REUSEADDR NULL 4", unix.SOL_SOCKET, unix.SO_REUSEADDR, nil, 4},
		{"SO_REUSEADDR len 2", unix.SOL_SOCKET, unix.SO_REUSEADDR, one, 2},
		{"SO_RCVTIMEO", unix.SOL_SOCKET, unix.SO_RCVTIMEO, tv, 16},
		{"SO_RCVTIMEO NULL 0", unix.SOL_SOCKET, unix.SO_RCVTIMEO, nil, 0},
		{"SO_RCVTIMEO NULL 16", unix.SOL_SOCKET, unix.SO_RCVTIMEO, nil, 16},
		{"SO_RCVTIMEO len 8", unix.SOL_SOCKET, unix.SO_RCVTIMEO, tv, 8},
		{"SO_SNDTIMEO NULL 0", unix.SOL_SOCKET, unix.SO_SNDTIMEO, nil, 0},
		{"IP_TTL one byte", unix.IPPROTO_IP, unix.IP_TTL, []byte{9}, 1},
	}
	for _, c := range cases {
		var p unsafe.Pointer
		if c.val != nil {
			p = unsafe.Pointer(&c.val[0])
		}
		_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(c.level), uintptr(c.opt), uintptr(p), uintptr(c.n), 0)
		var want error
		if e != 0 {
			want = e
		}
		val := c.val
		if val != nil {
			val = val[:min(int(c.n), len(val))]
		}
		if got := so.SetOptionArg(c.level, c.opt, val, c.n); !sameErr(got, want) {
			t.Errorf("%s: SetOptionArg %v, kernel %v", c.name, got, want)
		}
	}
}

// TestFcntlIoctlAccept4MatchKernel: F_GETFL/F_SETFL, FIONBIO/FIONREAD
// (and an unknown request), and accept4's flag check, against a kernel
// socket given the same requests.
func TestFcntlIoctlAccept4MatchKernel(t *testing.T) {
	n := testnet.New(t)
	so := mustSocket(t, n, false, unix.SOCK_DGRAM)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Skipf("no kernel socket: %v", err)
	}
	defer unix.Close(fd)
	so.SetNonblock(false)
	for _, step := range []struct {
		cmd, val int
	}{{unix.F_GETFL, 0}, {unix.F_SETFL, unix.O_NONBLOCK}, {unix.F_GETFL, 0}, {unix.F_SETFL, 0}, {unix.F_GETFL, 0},
		// Linux keeps O_APPEND, O_ASYNC and O_NOATIME, ignores creation
		// and access bits, and refuses O_DIRECT without changing a flag.
		{unix.F_SETFL, unix.O_APPEND}, {unix.F_GETFL, 0},
		{unix.F_SETFL, unix.O_ASYNC | unix.O_NONBLOCK}, {unix.F_GETFL, 0},
		{unix.F_SETFL, unix.O_NOATIME | unix.O_APPEND}, {unix.F_GETFL, 0},
		{unix.F_SETFL, unix.O_DIRECT}, {unix.F_GETFL, 0},
		{unix.F_SETFL, unix.O_CREAT | unix.O_TRUNC | unix.O_WRONLY | unix.O_SYNC}, {unix.F_GETFL, 0},
		{unix.F_SETFL, ^unix.O_DIRECT}, {unix.F_GETFL, 0},
		{unix.F_SETFL, 0}, {unix.F_GETFL, 0}} {
		want, kerr := unix.FcntlInt(uintptr(fd), step.cmd, step.val)
		got, err := so.Fcntl(step.cmd, step.val)
		if step.cmd == unix.F_GETFL {
			want &^= unix.O_LARGEFILE
		}
		if kerr != nil {
			want = 0 // Fcntl answers 0 with its error, the syscall -1
		}
		if got != want || !sameErr(err, kerr) {
			t.Errorf("fcntl(%d, %#x): %#x %v, kernel %#x %v", step.cmd, step.val, got, err, want, kerr)
		}
	}
	if _, err := so.Fcntl(unix.F_GETLK, 0); !errors.Is(err, unix.EINVAL) {
		t.Errorf("F_GETLK: %v, want EINVAL", err)
	}
	for _, req := range []uint64{socket.IoctlFIONBIO, socket.IoctlFIONREAD, socket.IoctlSIOCOUTQ, socket.IoctlFIOASYNC,
		socket.IoctlSIOCATMARK, unix.TCGETS} {
		for _, withArg := range []bool{true, false} {
			v, kv := int32(1), int32(1)
			var p unsafe.Pointer
			var arg *int32
			if withArg {
				p, arg = unsafe.Pointer(&kv), &v
			}
			_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(p))
			var want error
			if e != 0 {
				want = e
			}
			got := so.Ioctl(req, arg)
			name := fmt.Sprintf("ioctl %#x arg %v", req, withArg)
			if !sameErr(got, want) || kv != v {
				t.Errorf("%s: %v (%d), kernel %v (%d)", name, got, v, want, kv)
			}
		}
	}
	if !so.Nonblock() {
		t.Error("FIONBIO 1 did not set O_NONBLOCK")
	}
	want, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if got, _ := so.Fcntl(unix.F_GETFL, 0); got != want&^unix.O_LARGEFILE {
		t.Errorf("F_GETFL after FIONBIO and FIOASYNC: %#x, kernel %#x", got, want)
	}
	for _, flags := range []int{0, unix.SOCK_NONBLOCK, unix.SOCK_CLOEXEC, unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC, 1, unix.O_APPEND} {
		if err := socket.AcceptFlags(flags); (err == nil) != (flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) == 0) {
			t.Errorf("AcceptFlags(%#x): %v", flags, err)
		}
	}
}

// TestStackDomain: IP is the stack's; other domains go to the kernel,
// and New refuses them.
func TestStackDomain(t *testing.T) {
	n := testnet.New(t)
	for _, d := range []int{unix.AF_INET, unix.AF_INET6, unix.AF_UNIX, unix.AF_NETLINK, unix.AF_PACKET, unix.AF_UNSPEC} {
		ours := d == unix.AF_INET || d == unix.AF_INET6
		if socket.StackDomain(d) != ours {
			t.Errorf("StackDomain(%d) = %v", d, !ours)
		}
		so, err := socket.New(n.A.Gvisor(), d, unix.SOCK_DGRAM, 0)
		if so != nil {
			so.Release()
		}
		if (err == nil) != ours {
			t.Errorf("New(domain %d): %v", d, err)
		}
	}
}
