package socket

import (
	"fmt"
	"reflect"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// HoldSendBuffer keeps so's buffered bytes from reaching gVisor until
// release is called, as a flusher stuck in a Write would (tests only).
func HoldSendBuffer(so *Socket) (release func()) {
	c := so.coal.Load()
	c.wmu.Lock()
	return c.wmu.Unlock
}

// SendBufferHolder is HoldSendBuffer for so's coalescer of now, also
// once coalescing is turned off.
func SendBufferHolder(so *Socket) (hold func() (release func())) {
	c := so.coal.Load()
	return func() func() {
		c.wmu.Lock()
		return c.wmu.Unlock
	}
}

// SendBuffered is the number of bytes in so's send buffer.
func SendBuffered(so *Socket) int {
	c := so.coal.Load()
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		return 0
	}
	return len(*c.pending)
}

// SetFinishHook makes fn run each time a flusher is about to carry out a
// deferred shutdown or close; nil removes it. Not for parallel tests.
func SetFinishHook(fn func()) {
	if fn == nil {
		finishHook.Store(nil)
		return
	}
	finishHook.Store(&fn)
}

// EndpointWritable says whether gVisor's own send buffer has room,
// whatever the coalescer holds.
func EndpointWritable(so *Socket) bool { return so.endpoint().Readiness(EventOut) != 0 }

// SenderState is gVisor's view of so's unacknowledged data: bytes (and
// FIN) sent but not acknowledged, the packets the sender counts as in
// flight, and whether its retransmission or probe timer is armed. Read
// by reflection (tests only); ok is false if gVisor's fields moved.
func SenderState(so *Socket) (unacked uint32, outstanding int64, timerArmed, ok bool) {
	e, isTCP := so.endpoint().(*tcp.Endpoint)
	if !isTCP {
		return 0, 0, false, false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	s := reflect.ValueOf(e).Elem().FieldByName("snd").Elem()
	una, nxt := s.FieldByName("SndUna").Uint(), s.FieldByName("SndNxt").Uint()
	// gVisor's timerStateEnabled is 2.
	armed := s.FieldByName("resendTimer").FieldByName("state").Int() == 2 ||
		s.FieldByName("probeTimer").FieldByName("state").Int() == 2
	return uint32(nxt - una), s.FieldByName("Outstanding").Int(), armed, true
}

// DescribeSender is SenderState as text, for failure messages.
func DescribeSender(so *Socket) string {
	u, o, armed, ok := SenderState(so)
	if !ok {
		return "sender state unreadable"
	}
	return fmt.Sprintf("%d bytes unacknowledged, %d packets counted in flight, timer armed: %v, state %v",
		u, o, armed, tcp.EndpointState(so.endpoint().State()))
}

// UDPFastSent is how many datagrams so's UDP fast path sent.
func UDPFastSent(so *Socket) uint64 {
	if f := so.udpFastOf(); f != nil {
		return f.sent.Load()
	}
	return 0
}

// SetUDPFastRefresh sets how long a UDP fast path snapshot lasts; it
// returns the old value.
func SetUDPFastRefresh(ns int64) (old int64) {
	old, udpFastRefresh = udpFastRefresh, ns
	return old
}
