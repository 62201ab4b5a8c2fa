package tap

import (
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The netpoll reader waits for frames in Go's own netpoller instead of
// blocking a thread in poll(2). A goroutine parked in the netpoller holds no
// thread and no P: when a frame arrives, the thread that finds it runs the
// reader and then, on the same P, the TCP processor goroutine the delivery
// woke, and no P sits behind a blocked system call waiting for sysmon to
// hand it off. That removes thread wake-ups from every round trip.
//
// It is the default; Options.PollThread (GONETIF_TAP_NETPOLL=0 through
// tapio) selects the poll(2) reader (readLoop), the fallback.

// readLoopNetpoll reads on a duplicate of the TAP descriptor that it owns
// and registers with the netpoller (it shares the open file, so the same
// queue and flags, with e.fd, which writers keep using). wake() stops it by
// setting a read deadline in the past.
func (e *Endpoint) readLoopNetpoll(exited chan struct{}) {
	failed := false
	defer func() { e.readerExited(failed, exited) }()
	nfd, err := unix.FcntlInt(uintptr(e.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		e.stats.rxErrors.Add(1)
		failed = true
		return
	}
	f := os.NewFile(uintptr(nfd), "tap:"+e.name) // non-blocking: goes to the netpoller
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		e.stats.rxErrors.Add(1)
		failed = true
		return
	}
	e.pollFile.Store(f)
	defer e.pollFile.Store(nil)

	var rx rxState
	defer rx.release()
	for !e.closing.Load() && !e.stopReader.Load() {
		var n uintptr
		var errno unix.Errno
		err := rc.Read(func(fd uintptr) bool {
			iov := rx.prepare(e.vnet)
			n, _, errno = unix.RawSyscall(unix.SYS_READV, fd,
				uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
			return errno != unix.EAGAIN // false: park until readable
		})
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue // wake(): the loop condition decides
		case err != nil:
			e.stats.rxErrors.Add(1)
			failed = true
			return
		case errno == unix.EINTR:
			continue
		case errno != 0:
			// EBADFD or EIO: the interface was deleted under us.
			e.stats.rxErrors.Add(1)
			failed = true
			return
		}
		e.deliver(&rx, int(n))
	}
}
