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

// A poll over a mix of descriptors is split once: the entries of our
// sockets Go answers each round, the others (copied in order into the host
// array, then the caller's eventfd) the kernel waits on. Later calls find
// the split again by walking both arrays together: a host entry is the
// next one of the host array, as no descriptor is on both sides.

func pollEntries(p unsafe.Pointer, n int) []unix.PollFd {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*unix.PollFd)(p), n)
}

// isOurs is the C side's test (gonetif_slot): the slot is open.
func isOurs(fd int32) bool {
	return fd >= 0 && int(fd) < len(waitSlots) &&
		atomic.LoadUint32((*uint32)(unsafe.Pointer(&waitSlots[fd].open))) != 0
}

// walkSplit calls ours(i) for each entry Go answers and host(i, k) for
// each one the kernel polls as hosts[k].
func walkSplit(fds, hosts []unix.PollFd, ours func(i int), host func(i, k int)) {
	k := 0
	for i := range fds {
		if k < len(hosts) && fds[i].Fd == hosts[k].Fd {
			host(i, k)
			k++
		} else {
			ours(i)
		}
	}
}

// gonetif_poll_split copies the n entries that are not ours into hostfds
// (room for n+1), then efd for POLLIN; returns how many were copied.
//
//export gonetif_poll_split
func gonetif_poll_split(fds unsafe.Pointer, n C.int, hostfds unsafe.Pointer, efd C.int) C.int {
	hosts := pollEntries(hostfds, int(n)+1)
	h := 0
	for _, p := range pollEntries(fds, int(n)) {
		if !isOurs(p.Fd) {
			hosts[h] = p
			h++
		}
	}
	hosts[h] = unix.PollFd{Fd: int32(efd), Events: unix.POLLIN}
	return C.int(h)
}

// gonetif_poll_arm sets the revents of our entries (Linux's poll rules,
// Socket.Poll) and, when efd >= 0, first arms efd on each, so no change
// between the check and the wait is lost. A descriptor no longer open
// gets POLLNVAL. Returns how many of ours have revents.
//
//export gonetif_poll_arm
func gonetif_poll_arm(fds unsafe.Pointer, n C.int, hostfds unsafe.Pointer, h, efd C.int) C.int {
	pf := pollEntries(fds, int(n))
	ready := 0
	walkSplit(pf, pollEntries(hostfds, int(h)), func(i int) {
		so, err := theStackSocket(int(pf[i].Fd))
		if err != nil {
			pf[i].Revents = unix.POLLNVAL
			ready++
			return
		}
		if efd >= 0 {
			watchesOf(int(pf[i].Fd)).add(int32(efd))
		}
		pf[i].Revents = int16(so.Poll(uint32(uint16(pf[i].Events))))
		if pf[i].Revents != 0 {
			ready++
		}
	}, func(int, int) {})
	return C.int(ready)
}

// gonetif_poll_done disarms efd and gives the host entries their revents
// from the kernel's poll; when the poll failed (ok == 0) every revents is 0.
//
//export gonetif_poll_done
func gonetif_poll_done(fds unsafe.Pointer, n C.int, hostfds unsafe.Pointer, h, efd, ok C.int) {
	pf := pollEntries(fds, int(n))
	hosts := pollEntries(hostfds, int(h))
	walkSplit(pf, hosts, func(i int) {
		if fd := pf[i].Fd; fd >= 0 && int(fd) < len(watches) {
			if w := watches[fd].Load(); w != nil {
				w.remove(int32(efd))
			}
		}
		if ok == 0 {
			pf[i].Revents = 0
		}
	}, func(i, k int) {
		pf[i].Revents = 0
		if ok != 0 {
			pf[i].Revents = hosts[k].Revents
		}
	})
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
// into select's sets; returns the count of set bits, or the negated errno
// of socket.SelectFails.
//
//export gonetif_select_from_poll
func gonetif_select_from_poll(pollfds unsafe.Pointer, n C.int, rd, wr, ex unsafe.Pointer) C.int {
	sets := [3]*unix.FdSet{(*unix.FdSet)(rd), (*unix.FdSet)(wr), (*unix.FdSet)(ex)}
	pf := unsafe.Slice((*unix.PollFd)(pollfds), int(n))
	for _, p := range pf {
		if err := socket.SelectFails(p.Revents); err != nil {
			return negErrno(err)
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
