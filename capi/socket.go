package main

/*
#include "glue/gonetif_abi.h"
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif/link/capture"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/socket"
)

// The descriptor limit is the C side's too (the wait slots): the build
// fails when the two differ.
const (
	_ = uint(C.GONETIF_MAX_FDS - socket.MaxDescriptors)
	_ = uint(socket.MaxDescriptors - C.GONETIF_MAX_FDS)
)

// futex(2) FUTEX_WAKE | FUTEX_PRIVATE_FLAG; x/sys does not name it.
const futexWakePrivate = 1 | 128

var waitSlots []C.struct_gonetif_wait_slot

func setWaitSlots(p *C.struct_gonetif_wait_slot, n int) {
	if p == nil || n <= 0 {
		waitSlots = nil
		return
	}
	waitSlots = unsafe.Slice(p, min(n, socket.MaxDescriptors))
}

// notifier returns the readiness hook for descriptor fd: wake C threads
// sleeping on its wait slot (the socket has bumped the slot's seq) and
// the eventfds of select/poll callers.
func notifier(fd int) func(waiter.EventMask) {
	slot := &waitSlots[fd]
	seq := (*uint32)(unsafe.Pointer(&slot.seq))
	waiters := (*uint32)(unsafe.Pointer(&slot.waiters))
	w := watchesOf(fd)
	return func(waiter.EventMask) {
		if atomic.LoadUint32(waiters) != 0 {
			unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(seq)),
				futexWakePrivate, math.MaxInt32, 0, 0, 0)
		}
		if w.n.Load() != 0 {
			w.wake()
		}
	}
}

// register gives so a descriptor, its wait slot and the C side's
// interface names; the descriptor is close-on-exec only when asked.
func register(so *socket.Socket, cloexec bool) (int, error) {
	fd, err := theStack.Sockets.Add(so)
	if err != nil {
		so.Release()
		return -1, err
	}
	if fd >= len(waitSlots) {
		theStack.Sockets.Close(fd)
		return -1, unix.EMFILE
	}
	if !cloexec {
		unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
	}
	slot := &waitSlots[fd]
	so.SetWaitWord((*uint32)(unsafe.Pointer(&slot.seq)))
	so.SetNotify(notifier(fd))
	so.SetDeviceNames(netif.DeviceNames{M: theStack.Netifs})
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&slot.open)), 1)
	return fd, nil
}

// closeFd ends descriptor fd: C stops routing it here first.
func closeFd(fd int) error {
	if fd >= 0 && fd < len(waitSlots) {
		atomic.StoreUint32((*uint32)(unsafe.Pointer(&waitSlots[fd].open)), 0)
	}
	return theStack.Sockets.Close(fd)
}

//export gonetif_sock_call
func gonetif_sock_call(c *C.struct_gonetif_call) C.ssize_t {
	if c == nil {
		return -C.ssize_t(unix.EFAULT)
	}
	c.sigpipe = 0
	if c.op == C.GONETIF_OP_SOCKET {
		return result(newSocket(c))
	}
	so, err := theStackSocket(int(c.fd))
	if err != nil {
		return result(0, err)
	}
	call := socket.Call{Deadline: int64(c.deadline_ns), Done: int(c.done), Phase: int(c.phase)}
	n, err := runOp(so, c, &call)
	if err == socket.ErrWait {
		c.deadline_ns, c.done, c.phase = C.int64_t(call.Deadline), C.uint64_t(call.Done), C.int32_t(call.Phase)
		c.seq = C.uint32_t(call.Seq)
		c.until_us = C.int64_t((call.Until + 999) / 1000) // never early
		return C.GONETIF_CALL_WAIT
	}
	if errors.As(err, new(socket.BrokenPipe)) {
		c.sigpipe = 1
	}
	return result(n, err)
}

func result(n int, err error) C.ssize_t {
	if err != nil {
		return C.ssize_t(negErrno(err))
	}
	return C.ssize_t(n)
}

func theStackSocket(fd int) (*socket.Socket, error) {
	if theStack == nil {
		return nil, unix.EBADF
	}
	return theStack.Sockets.Get(fd)
}

func runOp(so *socket.Socket, c *C.struct_gonetif_call, call *socket.Call) (int, error) {
	switch c.op {
	case C.GONETIF_OP_BIND:
		return 0, bindOp(so, c.addr, c.addrlen)
	case C.GONETIF_OP_CONNECT:
		return 0, connectOp(so, c, call)
	case C.GONETIF_OP_LISTEN:
		return 0, so.Listen(int(c.flags))
	case C.GONETIF_OP_ACCEPT:
		return acceptOp(so, c, call, 0)
	case C.GONETIF_OP_ACCEPT4:
		if c.flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
			return 0, unix.EINVAL
		}
		return acceptOp(so, c, call, int(c.flags))
	case C.GONETIF_OP_SHUTDOWN:
		return 0, so.Shutdown(int(c.flags))
	case C.GONETIF_OP_CLOSE:
		if err := so.LingerStep(call); err != nil {
			return 0, err
		}
		return 0, closeFd(int(c.fd))
	case C.GONETIF_OP_SEND:
		return sendOp(so, c, call, bytesAt(c.buf, c.len), c.addr, c.addrlen, int(c.flags))
	case C.GONETIF_OP_RECV:
		return recvOp(so, c, call, bytesAt(c.buf, c.len), c.addr, c.lenp, int(c.flags))
	case C.GONETIF_OP_READ:
		if c.len == 0 {
			return 0, nil // Linux's read of nothing returns at once, whatever the state
		}
		return recvOp(so, c, call, bytesAt(c.buf, c.len), nil, nil, 0)
	case C.GONETIF_OP_READV, C.GONETIF_OP_WRITEV:
		return vectorOp(so, c, call)
	case C.GONETIF_OP_SENDMSG, C.GONETIF_OP_RECVMSG:
		return msgOp(so, c, call)
	case C.GONETIF_OP_SETSOCKOPT:
		return 0, setsockopt(so, int(c.level), int(c.name), c.buf, c.len)
	case C.GONETIF_OP_GETSOCKOPT:
		return 0, getsockopt(so, int(c.level), int(c.name), c.buf, c.lenp)
	case C.GONETIF_OP_NAME:
		return 0, nameOp(so, c.flags != 0, c.addr, c.lenp)
	case C.GONETIF_OP_FCNTL:
		return fcntlOp(so, int(c.fd), int(c.level), int(c.flags))
	case C.GONETIF_OP_IOCTL:
		return 0, ioctlOp(so, uint64(c.len), c.buf)
	}
	return 0, unix.EINVAL
}

// bytesAt is len bytes at p; nil for a NULL p (the ops then answer
// EFAULT when len > 0).
func bytesAt(p unsafe.Pointer, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), int(min(uint64(n), math.MaxInt)))
}

func newSocket(c *C.struct_gonetif_call) (int, error) {
	s, err := ensureStack()
	if err != nil {
		return 0, unix.ENOMEM
	}
	so, err := socket.New(s.Gvisor(), int(c.level), int(c.flags), int(c.name))
	if err != nil {
		return 0, err
	}
	return register(so, c.flags&unix.SOCK_CLOEXEC != 0)
}

func bindOp(so *socket.Socket, addr unsafe.Pointer, addrlen C.uint32_t) error {
	if err := checkAddrLen(addrlen); err != nil {
		return err
	}
	if so.Family == unix.AF_INET && addr != nil && addrlen >= unix.SizeofSockaddrInet4 &&
		*(*uint16)(addr) == unix.AF_UNSPEC && *(*uint32)(unsafe.Add(addr, 4)) == 0 {
		// Linux takes AF_UNSPEC with INADDR_ANY as AF_INET, for old programs.
		var sa [unix.SizeofSockaddrInet4]byte
		copy(sa[:], unsafe.Slice((*byte)(addr), len(sa)))
		binary.NativeEndian.PutUint16(sa[:], unix.AF_INET)
		full, _ := parseSockaddr(so.Family, unsafe.Pointer(&sa[0]), C.uint32_t(len(sa)))
		return so.Bind(full)
	}
	full, err := parseSockaddr(so.Family, addr, addrlen)
	if err != nil {
		return err
	}
	return so.Bind(full)
}

func connectOp(so *socket.Socket, c *C.struct_gonetif_call, call *socket.Call) error {
	if err := checkAddrLen(c.addrlen); err != nil {
		return err
	}
	if c.addr != nil && c.addrlen >= 2 && *(*uint16)(c.addr) == unix.AF_UNSPEC {
		return so.Disconnect()
	}
	full, err := parseSockaddr(so.Family, c.addr, c.addrlen)
	if err != nil {
		return err
	}
	return so.ConnectStep(call, full)
}

func acceptOp(so *socket.Socket, c *C.struct_gonetif_call, call *socket.Call, flags int) (int, error) {
	nso, peer, err := so.AcceptStep(call)
	if err != nil {
		return 0, err
	}
	nso.SetNonblock(flags&unix.SOCK_NONBLOCK != 0)
	nfd, err := register(nso, flags&unix.SOCK_CLOEXEC != 0)
	if err != nil {
		return 0, err
	}
	// Linux finds a NULL length only when it copies the address out, and
	// drops the connection it could not report.
	if c.addr != nil && c.lenp == nil {
		closeFd(nfd)
		return 0, unix.EFAULT
	}
	if err := writeSockaddr(so.Family, peer, c.addr, c.lenp); err != nil {
		closeFd(nfd)
		return 0, err
	}
	return nfd, nil
}

func sendOp(so *socket.Socket, c *C.struct_gonetif_call, call *socket.Call, b []byte, addr unsafe.Pointer, addrlen C.uint32_t, flags int) (int, error) {
	var to *tcpip.FullAddress
	if addr != nil {
		// Linux copies the address in (and checks its length) before it
		// looks at the socket type: a stream socket then ignores it.
		if err := checkAddrLen(addrlen); err != nil {
			return 0, err
		}
		if so.Type != unix.SOCK_STREAM {
			full, err := parseSockaddr(so.Family, addr, addrlen)
			if err != nil {
				return 0, err
			}
			to = &full
		}
	}
	if b == nil && c.op == C.GONETIF_OP_SEND && c.len > 0 {
		return 0, unix.EFAULT
	}
	return so.SendStep(call, b, to, socket.SendFlags{More: flags&unix.MSG_MORE != 0, OOB: flags&unix.MSG_OOB != 0,
		DontWait: flags&unix.MSG_DONTWAIT != 0, NoSignal: flags&unix.MSG_NOSIGNAL != 0})
}

// recvOp is recvfrom: the count, or with MSG_TRUNC a datagram's whole size.
func recvOp(so *socket.Socket, c *C.struct_gonetif_call, call *socket.Call, b []byte, addr unsafe.Pointer, addrlen *C.uint32_t, flags int) (int, error) {
	res, err := recvInto(so, c, call, b, addr, addrlen, flags)
	if err != nil {
		return 0, err
	}
	return so.RecvReturn(res, flags&unix.MSG_TRUNC != 0), nil
}

func recvInto(so *socket.Socket, c *C.struct_gonetif_call, call *socket.Call, b []byte, addr unsafe.Pointer, addrlen *C.uint32_t, flags int) (socket.RecvResult, error) {
	if addr != nil && addrlen == nil {
		return socket.RecvResult{}, unix.EFAULT
	}
	if b == nil && (c.op == C.GONETIF_OP_RECV || c.op == C.GONETIF_OP_READ) && c.len > 0 {
		return socket.RecvResult{}, unix.EFAULT
	}
	res, err := so.RecvStep(call, b, socket.RecvFlags{Peek: flags&unix.MSG_PEEK != 0, NeedRemoteAddr: addr != nil,
		DontWait: flags&unix.MSG_DONTWAIT != 0, WaitAll: flags&unix.MSG_WAITALL != 0, OOB: flags&unix.MSG_OOB != 0})
	if err != nil {
		return res, err
	}
	if addr != nil {
		// As Linux, a length that cannot be written back fails the call
		// after the data was taken.
		if so.Type == unix.SOCK_STREAM {
			if int32(*addrlen) < 0 {
				return res, unix.EINVAL
			}
			*addrlen = 0 // Linux reports no address for a stream
		} else if err := writeSockaddr(so.Family, res.From, addr, addrlen); err != nil {
			return res, err
		}
	}
	return res, nil
}

func nameOp(so *socket.Socket, peer bool, addr unsafe.Pointer, addrlen *C.uint32_t) error {
	if addr == nil || addrlen == nil {
		return unix.EFAULT
	}
	get := so.LocalAddr
	if peer {
		get = so.RemoteAddr
	}
	full, err := get()
	if err != nil {
		return err
	}
	return writeSockaddr(so.Family, full, addr, addrlen)
}

func setsockopt(so *socket.Socket, level, name int, val unsafe.Pointer, n C.size_t) error {
	if int32(n) < 0 { // Linux takes the length as an int
		return unix.EINVAL
	}
	if val == nil && (n > 0 || level == unix.SOL_SOCKET && (name == unix.SO_RCVTIMEO || name == unix.SO_SNDTIMEO)) {
		return unix.EFAULT
	}
	var b []byte
	if n > 0 {
		b = unsafe.Slice((*byte)(val), int(min(uint32(n), 64)))
	}
	return so.SetOption(level, name, b)
}

func getsockopt(so *socket.Socket, level, name int, val unsafe.Pointer, n *C.uint32_t) error {
	if val == nil || n == nil {
		return unix.EFAULT
	}
	if int32(*n) < 0 {
		return unix.EINVAL
	}
	o, err := so.Option(level, name)
	if err != nil {
		return err
	}
	// Linux's rules for short buffers: IP-level small ints come back as
	// one byte; interface names must fit; everything else is cut.
	if o.CharOK && *n > 0 && *n < 4 {
		if v := int32(binary.NativeEndian.Uint32(o.B[:])); v >= 0 && v <= 255 {
			*(*uint8)(val) = uint8(v)
			*n = 1
			return nil
		}
	}
	if o.Whole && int(*n) < o.N {
		return unix.EINVAL
	}
	size := min(int(*n), o.N)
	copy(unsafe.Slice((*byte)(val), size), o.B[:size])
	*n = C.uint32_t(size)
	return nil
}

func fcntlOp(so *socket.Socket, fd, cmd, val int) (int, error) {
	switch cmd {
	case unix.F_GETFL:
		if so.Nonblock() {
			return unix.O_RDWR | unix.O_NONBLOCK, nil
		}
		return unix.O_RDWR, nil
	case unix.F_SETFL:
		so.SetNonblock(val&unix.O_NONBLOCK != 0)
		return 0, nil
	case unix.F_GETFD, unix.F_SETFD:
		// The placeholder descriptor carries FD_CLOEXEC for the socket.
		return unix.FcntlInt(uintptr(fd), cmd, val)
	}
	return 0, unix.EINVAL
}

// FIONBIO and FIONREAD on Linux; x/sys does not name them.
const (
	fionbio  = 0x5421
	fionread = 0x541b
)

func ioctlOp(so *socket.Socket, request uint64, arg unsafe.Pointer) error {
	switch request {
	case fionbio:
		if arg == nil {
			return unix.EFAULT
		}
		so.SetNonblock(*(*int32)(arg) != 0)
		return nil
	case fionread:
		if arg == nil {
			return unix.EFAULT
		}
		v, err := so.ReceiveQueued()
		if err != nil {
			return err
		}
		*(*int32)(arg) = int32(v)
		return nil
	}
	return unix.ENOTTY
}

//export gonetif_sock_readiness
func gonetif_sock_readiness(fd, mask C.int) C.int {
	so, err := theStackSocket(int(fd))
	if err != nil {
		return negErrno(err)
	}
	return C.int(so.Readiness(waiter.EventMask(mask)))
}

// userFlushTimeout bounds the wait for a user-mode link at exit.
const userFlushTimeout = 500 * time.Millisecond

//export gonetif_exit_drain
func gonetif_exit_drain() C.int {
	defer flushCaptures() // after the drain, which adds frames
	if theStack == nil || theStack.ExitLinger <= 0 {
		return 0
	}
	left := theStack.DrainAll()
	if left.Connections > 0 {
		logf(logWarn, "exit: %d TCP connection(s) still sending after %v; their data may be lost", left.Connections, theStack.ExitLinger)
	}
	if left.Resolutions > 0 {
		logf(logWarn, "exit: %d neighbour(s) still unresolved after %v; frames queued for them are lost", left.Resolutions, theStack.ExitLinger)
	}
	// A user-mode link relays asynchronously: let its last frames reach
	// the host sockets, as a TAP write would have.
	netifs.each(func(cn *cNetif) {
		if cn.tap != nil && cn.tap.User() != nil && !cn.tap.User().Flush(userFlushTimeout) {
			logf(logWarn, "exit: the user-mode link of %s was still relaying after %v", cn.n.Key(), userFlushTimeout)
		}
	})
	return C.int(left.Connections + left.Resolutions)
}

// flushCaptures writes out buffered pcap records: the process is exiting
// and would lose the last frames (all of them for a short run).
func flushCaptures() {
	if err := capture.FlushAll(); err != nil {
		logf(logWarn, "exit: capture: %v", err)
	}
}

//export gonetif_sock_count
func gonetif_sock_count() C.int {
	if theStack == nil {
		return 0
	}
	return C.int(theStack.Sockets.Len())
}

// parseSockaddr reads a Linux sockaddr_in / sockaddr_in6 for a socket of
// the given family.
func parseSockaddr(family int, p unsafe.Pointer, n C.uint32_t) (tcpip.FullAddress, error) {
	if err := checkAddrLen(n); err != nil {
		return tcpip.FullAddress{}, err
	}
	if p == nil {
		return tcpip.FullAddress{}, unix.EFAULT
	}
	if n < 2 {
		return tcpip.FullAddress{}, unix.EINVAL
	}
	b := unsafe.Slice((*byte)(p), int(n))
	af := int(binary.NativeEndian.Uint16(b))
	if af != family {
		return tcpip.FullAddress{}, unix.EAFNOSUPPORT
	}
	switch af {
	case unix.AF_INET:
		if n < unix.SizeofSockaddrInet4 {
			return tcpip.FullAddress{}, unix.EINVAL
		}
		full := tcpip.FullAddress{Port: binary.BigEndian.Uint16(b[2:])}
		if a := [4]byte(b[4:8]); a != [4]byte{} {
			full.Addr = tcpip.AddrFrom4(a)
		}
		return full, nil
	case unix.AF_INET6:
		if n < unix.SizeofSockaddrInet6 {
			return tcpip.FullAddress{}, unix.EINVAL
		}
		full := tcpip.FullAddress{Port: binary.BigEndian.Uint16(b[2:])}
		if a := [16]byte(b[8:24]); a != [16]byte{} {
			full.Addr = tcpip.AddrFrom16(a)
		}
		if scope := binary.NativeEndian.Uint32(b[24:]); scope != 0 {
			full.NIC = tcpip.NICID(scope)
		}
		return full, nil
	}
	return tcpip.FullAddress{}, unix.EAFNOSUPPORT
}

// sizeofSockaddrStorage is the longest address Linux copies in; a longer
// (or negative) length is EINVAL before any byte is read.
const sizeofSockaddrStorage = 128

func checkAddrLen(n C.uint32_t) error {
	if int32(n) < 0 || n > sizeofSockaddrStorage {
		return unix.EINVAL
	}
	return nil
}

// writeSockaddr stores full as the family's sockaddr, truncated to *n
// bytes as Linux does, and sets *n to the full size. A negative *n is
// EINVAL, as Linux.
func writeSockaddr(family int, full tcpip.FullAddress, p unsafe.Pointer, n *C.uint32_t) error {
	if p == nil || n == nil {
		return nil
	}
	if int32(*n) < 0 {
		return unix.EINVAL
	}
	var sa [unix.SizeofSockaddrInet6]byte
	size := unix.SizeofSockaddrInet4
	binary.NativeEndian.PutUint16(sa[0:], uint16(family))
	binary.BigEndian.PutUint16(sa[2:], full.Port)
	if family == unix.AF_INET6 {
		size = unix.SizeofSockaddrInet6
		switch full.Addr.Len() {
		case 16:
			a := full.Addr.As16()
			copy(sa[8:24], a[:])
		case 4: // a v4 peer of a dual-stack socket appears v4-mapped
			a := full.Addr.As4()
			sa[18], sa[19] = 0xff, 0xff
			copy(sa[20:24], a[:])
		}
		binary.NativeEndian.PutUint32(sa[24:], uint32(full.NIC))
	} else if full.Addr.Len() == 4 {
		a := full.Addr.As4()
		copy(sa[4:8], a[:])
	}
	copy(unsafe.Slice((*byte)(p), min(int(*n), size)), sa[:size])
	*n = C.uint32_t(size)
	return nil
}
