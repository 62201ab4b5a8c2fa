package socket

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Poll returns the poll(2) bits (Linux values) ready for the requested
// events; POLLERR and POLLHUP are always reported, as on Linux. gVisor's
// Readiness differs from Linux around shutdown and unconnected sockets,
// so TCP follows Linux's tcp_poll rules here.
func (so *Socket) Poll(events uint32) uint32 {
	want := waiter.EventMask(events) | EventErr | EventHUp
	if so.Type != unix.SOCK_STREAM {
		r := so.endpoint().Readiness(want | waiter.ReadableEvents | waiter.WritableEvents)
		if so.udpReadShut.Load() {
			// Linux's datagram_poll: readable once shut for reading,
			// hung up once shut both ways.
			r |= waiter.ReadableEvents | waiter.EventRdHUp
			if so.writeShut() {
				r |= EventHUp
			}
		}
		return uint32(r & want)
	}
	st := tcp.EndpointState(so.endpoint().State())
	switch st {
	case tcp.StateListen:
		return uint32(so.endpoint().Readiness(waiter.ReadableEvents) & want)
	case tcp.StateSynSent, tcp.StateSynRecv, tcp.StateConnecting:
		return 0
	}
	so.mu.Lock()
	rcvShut, sndShut := so.shutRead, so.shutWrite
	so.mu.Unlock()
	closed := false
	switch st {
	case tcp.StateInitial, tcp.StateBound, tcp.StateClose, tcp.StateError:
		closed = true
		rcvShut, sndShut = rcvShut || st == tcp.StateError, sndShut || st == tcp.StateError
	case tcp.StateCloseWait:
		rcvShut = true
	case tcp.StateFinWait1, tcp.StateFinWait2:
		sndShut = true
	case tcp.StateClosing, tcp.StateTimeWait, tcp.StateLastAck:
		rcvShut, sndShut = true, true
	}
	var r waiter.EventMask
	if closed || (rcvShut && sndShut) {
		r |= EventHUp
	}
	if rcvShut {
		r |= waiter.ReadableEvents | waiter.EventRdHUp
	}
	r |= so.endpoint().Readiness(waiter.ReadableEvents | waiter.WritableEvents)
	if c := so.coal.Load(); c != nil && c.full() {
		r &^= waiter.WritableEvents
	}
	if sndShut || closed {
		r |= waiter.WritableEvents
	}
	if (st == tcp.StateError && so.errorPending()) || so.dropped.Load() {
		r |= EventErr
	}
	return uint32(r & want)
}

// errorPending says whether a failed connection still has an error for
// SO_ERROR or the next call (settling a failed connect first).
func (so *Socket) errorPending() bool {
	so.mu.Lock()
	defer so.mu.Unlock()
	so.finishConnectLocked()
	return so.connectErr != 0 || !so.errTaken
}
