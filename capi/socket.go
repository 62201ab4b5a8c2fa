package main

/*
#include "glue/gonetif_abi.h"
*/
import "C"

import (
	"errors"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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
		if n := atomic.LoadUint32(waiters); n != 0 {
			if n%C.GONETIF_POLL_WAITER != 0 {
				unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(seq)),
					futexWakePrivate, math.MaxInt32, 0, 0, 0)
			}
			if n >= C.GONETIF_POLL_WAITER {
				wakePollWaiters(fd)
			}
		}
		if w.n.Load() != 0 {
			w.wake()
		}
	}
}

// inlineReceive: GONETIF_TCP_RTC is on and the port waits in ppoll(2)
// (not under FreeRTOS, see gonetif_port_count_calls).
var inlineReceive atomic.Bool

// wakePollWaiters wakes the threads that wait for descriptor fd in
// ppoll(2) (gonetif_port_wait_fds): the descriptor is the socket's
// placeholder eventfd, which they read to reset.
func wakePollWaiters(fd int) {
	var one [8]byte
	one[0] = 1 // host-endian counter; any non-zero value wakes
	unix.Write(fd, one[:])
}

// register gives so a descriptor, its wait slot and the C side's
// interface names; the descriptor is close-on-exec only when asked.
func register(so *socket.Socket, cloexec bool) (int, error) {
	fd, err := theStack.Sockets.AddCloexec(so, cloexec)
	if err != nil {
		so.Release()
		return -1, err
	}
	if fd >= len(waitSlots) {
		theStack.Sockets.Close(fd)
		return -1, unix.EMFILE
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
	call := socket.Call{Deadline: int64(c.deadline_ns), Done: int(c.done), Phase: int(c.phase), PollFd: int(c.poll_fd)}
	so.ReceiveInline(&call)
	n, err := runOp(so, c, &call)
	if err == socket.ErrWait {
		if inlineReceive.Load() {
			so.OfferInlineReceive(&call)
		}
		c.poll_fd = C.int32_t(call.PollFd)
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
		return 0, so.BindArg(addrArg(c.addr, c.addrlen))
	case C.GONETIF_OP_CONNECT:
		return 0, so.ConnectArgStep(call, addrArg(c.addr, c.addrlen))
	case C.GONETIF_OP_LISTEN:
		return 0, so.Listen(int(c.flags))
	case C.GONETIF_OP_ACCEPT:
		return acceptOp(so, c, call, 0)
	case C.GONETIF_OP_ACCEPT4:
		if err := socket.AcceptFlags(int(c.flags)); err != nil {
			return 0, err
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
		if c.buf == nil && c.len > 0 {
			return 0, unix.EFAULT
		}
		return sendOp(so, call, bytesAt(c.buf, c.len), addrArg(c.addr, c.addrlen), int(c.flags))
	case C.GONETIF_OP_RECV:
		if c.buf == nil && c.len > 0 {
			return 0, unix.EFAULT
		}
		return recvOp(so, call, bytesAt(c.buf, c.len), addrOut(c.addr, c.lenp), int(c.flags))
	case C.GONETIF_OP_READ:
		if c.buf == nil && c.len > 0 {
			return 0, unix.EFAULT
		}
		res, err := so.ReadStep(call, bytesAt(c.buf, c.len))
		return res.N, err
	case C.GONETIF_OP_READV, C.GONETIF_OP_WRITEV:
		return vectorOp(so, c, call)
	case C.GONETIF_OP_SENDMSG, C.GONETIF_OP_RECVMSG:
		return msgOp(so, c, call)
	case C.GONETIF_OP_SETSOCKOPT:
		return 0, so.SetOptionArg(int(c.level), int(c.name), optionBytes(c.buf, c.len), uint32(c.len))
	case C.GONETIF_OP_GETSOCKOPT:
		return 0, getsockopt(so, int(c.level), int(c.name), c.buf, c.lenp)
	case C.GONETIF_OP_NAME:
		return 0, so.Name(c.flags != 0, addrOut(c.addr, c.lenp))
	case C.GONETIF_OP_FCNTL:
		if cmd := int(c.level); cmd == unix.F_GETFD || cmd == unix.F_SETFD {
			// The placeholder descriptor carries FD_CLOEXEC for the socket.
			return unix.FcntlInt(uintptr(c.fd), cmd, int(c.flags))
		}
		v, err := so.Fcntl(int(c.level), int(c.flags))
		if c.level == unix.F_GETOWN && err == nil {
			// A process group owner is negative, which the return value
			// would read as an errno: the answer goes back in flags.
			c.flags = C.int32_t(v)
			return 0, nil
		}
		return v, err
	case C.GONETIF_OP_IOCTL:
		if req := uint64(c.len); req == socket.IoctlFIOCLEX || req == socket.IoctlFIONCLEX {
			// Close-on-exec is the placeholder descriptor's, as FD_CLOEXEC.
			_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(c.fd), uintptr(req), 0)
			if e != 0 {
				return 0, e
			}
			return 0, nil
		}
		return 0, so.Ioctl(uint64(c.len), (*int32)(c.buf))
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

// optionBytes is a setsockopt buffer: nil for NULL, else as many bytes
// as SetOptionArg may read.
func optionBytes(p unsafe.Pointer, n C.size_t) []byte {
	if p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(p), min(uint32(n), socket.MaxOptionBytes))
}

// addrArg is a sockaddr argument: nil for NULL, else as many bytes as
// the socket package may read.
func addrArg(p unsafe.Pointer, n C.uint32_t) socket.AddrArg {
	a := socket.AddrArg{Len: uint32(n)}
	if p != nil {
		a.B = unsafe.Slice((*byte)(p), min(uint32(n), socket.MaxSockaddr))
	}
	return a
}

// addrOut is a sockaddr result argument: a buffer of *n bytes (no more
// than a sockaddr_in6; none while *n is negative) and its length word.
func addrOut(p unsafe.Pointer, n *C.uint32_t) socket.AddrOut {
	out := socket.AddrOut{Len: (*uint32)(n)}
	if p != nil {
		room := 0
		if n != nil {
			room = int(min(max(int32(*n), 0), unix.SizeofSockaddrInet6))
		}
		out.Buf = unsafe.Slice((*byte)(p), room)
	}
	return out
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
	if err := so.ReportPeer(addrOut(c.addr, c.lenp), peer); err != nil {
		closeFd(nfd)
		return 0, err
	}
	return nfd, nil
}

func sendOp(so *socket.Socket, call *socket.Call, b []byte, to socket.AddrArg, flags int) (int, error) {
	target, err := so.SendTargetArg(to)
	if err != nil {
		return 0, err
	}
	return so.SendStep(call, b, target, socket.SendFlags{More: flags&unix.MSG_MORE != 0, OOB: flags&unix.MSG_OOB != 0,
		DontWait: flags&unix.MSG_DONTWAIT != 0, NoSignal: flags&unix.MSG_NOSIGNAL != 0})
}

// recvOp is recvfrom: the count, or with MSG_TRUNC a datagram's whole size.
func recvOp(so *socket.Socket, call *socket.Call, b []byte, from socket.AddrOut, flags int) (int, error) {
	res, err := so.RecvFromStep(call, b, from, recvFlags(flags))
	if err != nil {
		return 0, err
	}
	return so.RecvReturn(res, flags&unix.MSG_TRUNC != 0), nil
}

func recvFlags(flags int) socket.RecvFlags {
	return socket.RecvFlags{Peek: flags&unix.MSG_PEEK != 0, DontWait: flags&unix.MSG_DONTWAIT != 0,
		WaitAll: flags&unix.MSG_WAITALL != 0, OOB: flags&unix.MSG_OOB != 0, Trunc: flags&unix.MSG_TRUNC != 0,
		ErrQueue: flags&unix.MSG_ERRQUEUE != 0}
}

func getsockopt(so *socket.Socket, level, name int, val unsafe.Pointer, n *C.uint32_t) error {
	if val == nil || n == nil {
		return unix.EFAULT
	}
	b, err := so.OptionArg(level, name, uint32(*n))
	if err != nil {
		return err
	}
	copy(unsafe.Slice((*byte)(val), len(b)), b)
	*n = C.uint32_t(len(b))
	return nil
}

//export gonetif_sock_domain_ours
func gonetif_sock_domain_ours(domain C.int) C.int {
	if socket.StackDomain(int(domain)) {
		return 1
	}
	return 0
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
