package main

/*
#include "glue/gonetif_abi.h"
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/socket"
)

// A C thread in select/poll waits in the kernel on its own eventfd next to
// the host descriptors. While it waits, each of our sockets it watches
// holds that eventfd here, and the socket's readiness hook writes to it.

type watchSet struct {
	n    atomic.Int32
	mu   sync.Mutex // held while writing, so a disarmed eventfd is never written later
	efds []int32
}

var watches [socket.MaxDescriptors]atomic.Pointer[watchSet]

func watchesOf(fd int) *watchSet {
	if w := watches[fd].Load(); w != nil {
		return w
	}
	w := new(watchSet)
	if watches[fd].CompareAndSwap(nil, w) {
		return w
	}
	return watches[fd].Load()
}

var efdOne = [8]byte{1}

func (w *watchSet) wake() {
	w.mu.Lock()
	for _, efd := range w.efds {
		unix.Write(int(efd), efdOne[:])
	}
	w.mu.Unlock()
}

func (w *watchSet) add(efd int32) {
	w.mu.Lock()
	for _, e := range w.efds {
		if e == efd {
			w.mu.Unlock()
			return
		}
	}
	w.efds = append(w.efds, efd)
	w.n.Store(int32(len(w.efds)))
	w.mu.Unlock()
}

func (w *watchSet) remove(efd int32) {
	w.mu.Lock()
	for i, e := range w.efds {
		if e == efd {
			last := len(w.efds) - 1
			w.efds[i] = w.efds[last]
			w.efds = w.efds[:last]
			break
		}
	}
	w.n.Store(int32(len(w.efds)))
	w.mu.Unlock()
}

// gonetif_poll_arm fills revents for n of our descriptors and, when efd >= 0,
// registers efd on each of them first (so no change between the check and
// the wait is lost). A descriptor that is not open gets POLLNVAL. Returns
// how many have revents.
//
//export gonetif_poll_arm
func gonetif_poll_arm(fds *C.int, events, revents *C.short, n, efd C.int) C.int {
	if n <= 0 {
		return 0
	}
	fs := unsafe.Slice((*int32)(unsafe.Pointer(fds)), int(n))
	ev := unsafe.Slice((*int16)(unsafe.Pointer(events)), int(n))
	rev := unsafe.Slice((*int16)(unsafe.Pointer(revents)), int(n))
	ready := 0
	for i, fd := range fs {
		so, err := theStack.Sockets.Get(int(fd))
		if err != nil {
			rev[i] = unix.POLLNVAL
			ready++
			continue
		}
		if efd >= 0 {
			watchesOf(int(fd)).add(int32(efd))
		}
		rev[i] = int16(so.Poll(uint32(uint16(ev[i]))))
		if rev[i] != 0 {
			ready++
		}
	}
	return C.int(ready)
}

// gonetif_poll_disarm removes efd from the descriptors armed before.
//
//export gonetif_poll_disarm
func gonetif_poll_disarm(fds *C.int, n, efd C.int) {
	if n <= 0 {
		return
	}
	for _, fd := range unsafe.Slice((*int32)(unsafe.Pointer(fds)), int(n)) {
		if fd >= 0 && int(fd) < len(watches) {
			if w := watches[fd].Load(); w != nil {
				w.remove(int32(efd))
			}
		}
	}
}

// gonetif_select_to_poll turns select's sets (fd_set pointers, each may
// be NULL) for descriptors below nfds into pollfd entries; returns their
// count.
//
//export gonetif_select_to_poll
func gonetif_select_to_poll(nfds C.int, rd, wr, ex, pollfds unsafe.Pointer) C.int {
	sets := [3]*unix.FdSet{(*unix.FdSet)(rd), (*unix.FdSet)(wr), (*unix.FdSet)(ex)}
	pf := unsafe.Slice((*unix.PollFd)(pollfds), int(nfds))
	n := 0
	for fd := 0; fd < int(nfds); fd++ {
		var in [3]bool
		for i, s := range sets {
			in[i] = s != nil && s.IsSet(fd)
		}
		if ev := socket.SelectEvents(in[0], in[1], in[2]); ev != 0 {
			pf[n] = unix.PollFd{Fd: int32(fd), Events: ev}
			n++
		}
	}
	return C.int(n)
}

// gonetif_select_from_poll writes the poll results of n entries back
// into select's sets; returns the count of set bits, or -EBADF when an
// entry is not an open descriptor.
//
//export gonetif_select_from_poll
func gonetif_select_from_poll(pollfds unsafe.Pointer, n C.int, rd, wr, ex unsafe.Pointer) C.int {
	sets := [3]*unix.FdSet{(*unix.FdSet)(rd), (*unix.FdSet)(wr), (*unix.FdSet)(ex)}
	pf := unsafe.Slice((*unix.PollFd)(pollfds), int(n))
	for _, p := range pf {
		if p.Revents&unix.POLLNVAL != 0 {
			return -C.int(unix.EBADF)
		}
	}
	count := 0
	for _, p := range pf {
		fd := int(p.Fd)
		var ready [3]bool
		ready[0], ready[1], ready[2] = socket.SelectReady(p.Revents)
		for i, s := range sets {
			if s == nil || !s.IsSet(fd) {
				continue
			}
			if ready[i] {
				count++
			} else {
				s.Clear(fd)
			}
		}
	}
	return C.int(count)
}
