package socket

import "golang.org/x/sys/unix"

// select(2) on top of poll(2), with Linux's reading of the poll bits, so
// select and poll answer from the same readiness (Socket.Poll).

// SelectEvents is what poll(2) is asked for a descriptor in select's
// read, write and exceptional sets.
func SelectEvents(read, write, except bool) int16 {
	var ev int16
	if read {
		ev |= unix.POLLIN
	}
	if write {
		ev |= unix.POLLOUT
	}
	if except {
		ev |= unix.POLLPRI
	}
	return ev
}

// SelectReady is how Linux's select reads poll bits: readable on POLLIN,
// POLLHUP or POLLERR; writable on POLLOUT or POLLERR; exceptional on
// POLLPRI. (POLLNVAL fails the whole select: SelectFails.)
func SelectReady(revents int16) (read, write, except bool) {
	return revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) != 0,
		revents&(unix.POLLOUT|unix.POLLERR) != 0,
		revents&unix.POLLPRI != 0
}

// SelectFails is the error a descriptor's poll bits make of a whole
// select: EBADF for one that is not open (POLLNVAL), else nil.
func SelectFails(revents int16) error {
	if revents&unix.POLLNVAL != 0 {
		return unix.EBADF
	}
	return nil
}
