package tap

import (
	"errors"
	"os"
	"time"
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
	var rx rxState
	defer rx.release()
	for !e.closing.Load() && !e.stopReader.Load() {
		if !e.pollUntilYield(&rx) {
			e.stats.rxErrors.Add(1)
			failed = true
			return
		}
		// Callers wait for the TAP themselves (rtc.go): stay out of the
		// netpoller, so no frame wakes this goroutine, until they are gone.
		e.awayWhileCallersRead()
	}
}

// pollUntilYield reads and delivers frames on its own registration with
// the netpoller until the endpoint stops or callers ask for the TAP
// (rtc.go); closing the registration on return takes the TAP out of the
// netpoller. False on a failure (the interface went away).
func (e *Endpoint) pollUntilYield(rx *rxState) bool {
	nfd, err := unix.FcntlInt(uintptr(e.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(nfd), "tap:"+e.name) // non-blocking: goes to the netpoller
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	e.pollFile.Store(f)
	defer e.pollFile.Store(nil)
	if e.cr.yield.Load() {
		return true // asked before the file was there to be woken
	}

	for !e.closing.Load() && !e.stopReader.Load() {
		var n uintptr
		var errno unix.Errno
		shared := e.cr.on.Load() // callers may read too (rtc.go)
		err := rc.Read(func(fd uintptr) bool {
			if shared {
				var ok bool
				n, errno, ok = e.readTurn(fd)
				return ok
			}
			iov := rx.prepare(e.vnet)
			n, _, errno = unix.RawSyscall(unix.SYS_READV, fd,
				uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
			return errno != unix.EAGAIN // false: park until readable
		})
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			if e.cr.yield.Load() {
				return true
			}
			_ = f.SetReadDeadline(time.Time{}) // a yield asked and withdrawn
			continue                           // wake(): the loop condition decides
		case err != nil:
			return false
		case errno == unix.EINTR:
			continue
		case errno != 0:
			// EBADFD or EIO: the interface was deleted under us.
			return false
		}
		if shared {
			e.deliver(&e.cr.rx, int(n))
			e.endTurn()
			continue
		}
		e.deliver(rx, int(n))
	}
	return true
}
