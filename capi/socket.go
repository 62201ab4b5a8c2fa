package main

/*
#include "glue/gonetif_abi.h"
*/
import "C"

import (
	"encoding/binary"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif/link/capture"
	"gonetif.dev/gonetif/socket"
)

// Linux flag values seen at this boundary; the C glue handles the waiting
// ones (MSG_DONTWAIT, MSG_WAITALL) itself.
const (
	msgOOB      = 0x1
	msgPeek     = 0x2
	msgTrunc    = 0x20
	msgDontWait = 0x40
	msgMore     = 0x8000
)

// futex(2) FUTEX_WAKE | FUTEX_PRIVATE_FLAG; x/sys does not name it.
const futexWakePrivate = 1 | 128

var waitSlots []C.struct_gonetif_wait_slot

func setWaitSlots(p *C.struct_gonetif_wait_slot, n int) {
	if p == nil || n <= 0 {
		waitSlots = nil
		return
	}
	waitSlots = unsafe.Slice(p, n)
}

// notifier returns the readiness hook for descriptor fd: bump the slot's
// sequence number and wake C threads waiting on it (only if any are).
func notifier(fd int) func(waiter.EventMask) {
	if fd >= len(waitSlots) {
		return nil
	}
	slot := &waitSlots[fd]
	seq := (*uint32)(unsafe.Pointer(&slot.seq))
	waiters := (*uint32)(unsafe.Pointer(&slot.waiters))
	w := watchesOf(fd)
	return func(waiter.EventMask) {
		atomic.AddUint32(seq, 1)
		if atomic.LoadUint32(waiters) != 0 {
			unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(seq)),
				futexWakePrivate, math.MaxInt32, 0, 0, 0)
		}
		if w.n.Load() != 0 {
			w.wake()
		}
	}
}

func register(so *socket.Socket) C.int {
	fd, err := theStack.Sockets.Add(so)
	if err != nil {
		so.Close()
		return negErrno(err)
	}
	so.SetNotify(notifier(fd))
	return C.int(fd)
}

func getSocket(fd C.int) (*socket.Socket, C.int) {
	so, err := theStack.Sockets.Get(int(fd))
	if err != nil {
		return nil, negErrno(err)
	}
	return so, 0
}

//export gonetif_sock_socket
func gonetif_sock_socket(domain, typ, protocol C.int) C.int {
	s, err := ensureStack()
	if err != nil {
		return -C.int(unix.ENOMEM)
	}
	so, err := socket.New(s.Gvisor(), int(domain), int(typ), int(protocol))
	if err != nil {
		return negErrno(err)
	}
	return register(so)
}

//export gonetif_sock_bind
func gonetif_sock_bind(fd C.int, addr unsafe.Pointer, addrlen C.uint32_t) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
	}
	if err := checkAddrLen(addrlen); err != nil {
		return negErrno(err)
	}
	if so.Family == unix.AF_INET && addr != nil && addrlen >= unix.SizeofSockaddrInet4 &&
		*(*uint16)(addr) == unix.AF_UNSPEC && *(*uint32)(unsafe.Add(addr, 4)) == 0 {
		// Linux takes AF_UNSPEC with INADDR_ANY as AF_INET, for old programs.
		var sa [unix.SizeofSockaddrInet4]byte
		copy(sa[:], unsafe.Slice((*byte)(addr), len(sa)))
		binary.NativeEndian.PutUint16(sa[:], unix.AF_INET)
		full, _ := parseSockaddr(so.Family, unsafe.Pointer(&sa[0]), C.uint32_t(len(sa)))
		return negErrno(so.Bind(full))
	}
	full, err := parseSockaddr(so.Family, addr, addrlen)
	if err != nil {
		return negErrno(err)
	}
	return negErrno(so.Bind(full))
}

//export gonetif_sock_connect
func gonetif_sock_connect(fd C.int, addr unsafe.Pointer, addrlen C.uint32_t) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
	}
	if err := checkAddrLen(addrlen); err != nil {
		return negErrno(err)
	}
	if addr != nil && addrlen >= 2 && *(*uint16)(addr) == unix.AF_UNSPEC {
		return negErrno(so.Disconnect())
	}
	full, err := parseSockaddr(so.Family, addr, addrlen)
	if err != nil {
		return negErrno(err)
	}
	return negErrno(so.Connect(full))
}

//export gonetif_sock_connect_result
func gonetif_sock_connect_result(fd C.int) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
	}
	return negErrno(so.ConnectResult())
}

//export gonetif_sock_listen
func gonetif_sock_listen(fd, backlog C.int) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
	}
	return negErrno(so.Listen(int(backlog)))
}

//export gonetif_sock_accept
func gonetif_sock_accept(fd C.int, addr unsafe.Pointer, addrlen *C.uint32_t) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
	}
	nso, peer, err := so.Accept()
	if err != nil {
		return negErrno(err)
	}
	nfd := register(nso)
	if nfd >= 0 {
		if err := writeSockaddr(so.Family, peer, addr, addrlen); err != nil {
			// Linux drops the connection it could not report.
			theStack.Sockets.Close(int(nfd))
			return negErrno(err)
		}
	}
	return nfd
}

//export gonetif_sock_send
func gonetif_sock_send(fd C.int, buf unsafe.Pointer, n C.size_t, flags C.int, addr unsafe.Pointer, addrlen C.uint32_t) C.ssize_t {
	so, rc := getSocket(fd)
	if so == nil {
		return C.ssize_t(rc)
	}
	var to *tcpip.FullAddress
	if addr != nil {
		// Linux copies the address in (and checks its length) before it
		// looks at the socket type: a stream socket then ignores it.
		if err := checkAddrLen(addrlen); err != nil {
			return C.ssize_t(negErrno(err))
		}
	}
	if addr != nil && so.Type != unix.SOCK_STREAM {
		full, err := parseSockaddr(so.Family, addr, addrlen)
		if err != nil {
			return C.ssize_t(negErrno(err))
		}
		to = &full
	}
	var b []byte
	if n > 0 {
		if buf == nil {
			return -C.ssize_t(unix.EFAULT)
		}
		b = unsafe.Slice((*byte)(buf), int(n))
	}
	sent, err := so.Send(b, to, socket.SendFlags{More: flags&msgMore != 0, OOB: flags&msgOOB != 0})
	if err != nil && sent == 0 {
		return C.ssize_t(negErrno(err))
	}
	return C.ssize_t(sent)
}

//export gonetif_sock_recv
func gonetif_sock_recv(fd C.int, buf unsafe.Pointer, n C.size_t, flags C.int, addr unsafe.Pointer, addrlen *C.uint32_t) C.ssize_t {
	so, rc := getSocket(fd)
	if so == nil {
		return C.ssize_t(rc)
	}
	var b []byte
	if n > 0 {
		if buf == nil {
			return -C.ssize_t(unix.EFAULT)
		}
		b = unsafe.Slice((*byte)(buf), int(n))
	}
	res, err := so.Recv(b, socket.RecvFlags{Peek: flags&msgPeek != 0, NeedRemoteAddr: addr != nil,
		DontWait: flags&msgDontWait != 0, OOB: flags&msgOOB != 0})
	if err != nil {
		return C.ssize_t(negErrno(err))
	}
	if addr != nil && addrlen != nil {
		// As Linux, a length that cannot be written back fails the call
		// after the data was taken.
		if so.Type == unix.SOCK_STREAM {
			if int32(*addrlen) < 0 {
				return -C.ssize_t(unix.EINVAL)
			}
			*addrlen = 0 // Linux reports no address for a stream
		} else if err := writeSockaddr(so.Family, res.From, addr, addrlen); err != nil {
			return C.ssize_t(negErrno(err))
		}
	}
	if flags&msgTrunc != 0 && so.Type != unix.SOCK_STREAM {
		return C.ssize_t(res.Total)
	}
	return C.ssize_t(res.N)
}

//export gonetif_sock_shutdown
func gonetif_sock_shutdown(fd, how C.int) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
	}
	return negErrno(so.Shutdown(int(how)))
}

//export gonetif_sock_close
func gonetif_sock_close(fd C.int) C.int {
	if theStack == nil {
		return -C.int(unix.EBADF)
	}
	return negErrno(theStack.Sockets.Close(int(fd)))
}

//export gonetif_sock_setsockopt
func gonetif_sock_setsockopt(fd, level, name C.int, val unsafe.Pointer, n C.uint32_t) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
	}
	if int32(n) < 0 {
		return -C.int(unix.EINVAL)
	}
	if val == nil && n > 0 {
		return -C.int(unix.EFAULT)
	}
	var b []byte
	if n > 0 {
		b = unsafe.Slice((*byte)(val), int(min(n, 64)))
	}
	return negErrno(so.SetOption(int(level), int(name), b))
}

//export gonetif_sock_getsockopt
func gonetif_sock_getsockopt(fd, level, name C.int, val unsafe.Pointer, n *C.uint32_t) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
	}
	if val == nil || n == nil {
		return -C.int(unix.EFAULT)
	}
	if int32(*n) < 0 {
		return -C.int(unix.EINVAL)
	}
	o, err := so.Option(int(level), int(name))
	if err != nil {
		return negErrno(err)
	}
	// Linux's rules for short buffers: IP-level small ints come back as
	// one byte; everything else is cut to the buffer.
	if o.CharOK && *n > 0 && *n < 4 {
		if v := int32(binary.NativeEndian.Uint32(o.B[:])); v >= 0 && v <= 255 {
			*(*uint8)(val) = uint8(v)
			*n = 1
			return 0
		}
	}
	size := min(int(*n), o.N)
	copy(unsafe.Slice((*byte)(val), size), o.B[:size])
	*n = C.uint32_t(size)
	return 0
}

//export gonetif_sock_fin_pending
func gonetif_sock_fin_pending(fd C.int) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
	}
	if so.FinPending() {
		return 1
	}
	return 0
}

//export gonetif_sock_fionread
func gonetif_sock_fionread(fd C.int) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
	}
	v, err := so.ReceiveQueued()
	if err != nil {
		return negErrno(err)
	}
	return C.int(v)
}

//export gonetif_sock_name
func gonetif_sock_name(fd, peer C.int, addr unsafe.Pointer, addrlen *C.uint32_t) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
	}
	if addr == nil || addrlen == nil {
		return -C.int(unix.EFAULT)
	}
	get := so.LocalAddr
	if peer != 0 {
		get = so.RemoteAddr
	}
	full, err := get()
	if err != nil {
		return negErrno(err)
	}
	return negErrno(writeSockaddr(so.Family, full, addr, addrlen))
}

//export gonetif_sock_readiness
func gonetif_sock_readiness(fd, mask C.int) C.int {
	so, rc := getSocket(fd)
	if so == nil {
		return rc
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
