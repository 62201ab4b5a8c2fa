package netif

import (
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ackHold is a delayed ACK done at the interface. gVisor acknowledges
// every batch of received segments at once; in a request/response
// exchange that bare ACK is followed a few microseconds later by the
// application's next request, which carries the same acknowledgement.
// Linux and lwIP delay the ACK and let the data carry it. Here a bare ACK
// waits up to `wait`; a later segment of the same connection whose
// acknowledgement is the same or newer replaces it (the bare ACK is never
// written), otherwise it goes out when its time is up. ACKs that carry
// SACK blocks (duplicate ACKs that drive the peer's fast retransmit) and
// anything but a plain ACK pass at once. Off by default: over a TAP the
// ACK's write was never on a round trip's critical path, and bulk
// receive lost a quarter with half the ACKs (bench/RESULTS.md).
type ackHold struct {
	next gvstack.QueueingDiscipline
	wait time.Duration
	now  func() time.Time

	mu     sync.Mutex
	held   map[flowKey]*heldAck
	timer  *time.Timer
	armed  bool // timer set; it re-arms itself while anything is held
	closed bool
}

// maxHeld bounds the held ACKs per interface; beyond it ACKs go at once.
const maxHeld = 1024

// bigAckStep: a bare ACK that acknowledges this much more than the one it
// replaces goes out at once, so a bulk sender still gets an ACK for at
// least every other burst (as Linux's every-second-segment rule).
const bigAckStep = 8 * 1024

type flowKey struct {
	addrs [32]byte // source, destination (IPv4 in the first 4 bytes of each)
	ports [2]uint16
}

type heldAck struct {
	pkt      *gvstack.PacketBuffer
	ack      seqnum.Value
	deadline time.Time
}

func newAckHold(next gvstack.QueueingDiscipline, wait time.Duration) *ackHold {
	h := &ackHold{next: next, wait: wait, now: time.Now, held: make(map[flowKey]*heldAck)}
	h.timer = time.AfterFunc(time.Hour, h.expire)
	h.timer.Stop()
	return h
}

// tcpInfo parses what the hold needs from an outgoing TCP packet.
func tcpInfo(pkt *gvstack.PacketBuffer) (k flowKey, tcp header.TCP, ok bool) {
	if pkt.TransportProtocolNumber != header.TCPProtocolNumber {
		return k, nil, false
	}
	nh := pkt.NetworkHeader().Slice()
	switch pkt.NetworkProtocolNumber {
	case header.IPv4ProtocolNumber:
		if len(nh) < header.IPv4MinimumSize {
			return k, nil, false
		}
		ip := header.IPv4(nh)
		s, d := ip.SourceAddress().As4(), ip.DestinationAddress().As4()
		copy(k.addrs[:4], s[:])
		copy(k.addrs[16:20], d[:])
	case header.IPv6ProtocolNumber:
		if len(nh) < header.IPv6MinimumSize {
			return k, nil, false
		}
		ip := header.IPv6(nh)
		s, d := ip.SourceAddress().As16(), ip.DestinationAddress().As16()
		copy(k.addrs[:16], s[:])
		copy(k.addrs[16:], d[:])
	default:
		return k, nil, false
	}
	th := pkt.TransportHeader().Slice()
	if len(th) < header.TCPMinimumSize {
		return k, nil, false
	}
	tcp = header.TCP(th)
	k.ports = [2]uint16{tcp.SourcePort(), tcp.DestinationPort()}
	return k, tcp, true
}

// bareAck: only the ACK flag, no payload, no options but timestamps.
func bareAck(pkt *gvstack.PacketBuffer, tcp header.TCP) bool {
	if tcp.Flags() != header.TCPFlagAck || pkt.Data().Size() != 0 {
		return false
	}
	off := int(tcp.DataOffset())
	if off < header.TCPMinimumSize || off > len(tcp) {
		return false
	}
	opts := tcp[header.TCPMinimumSize:off]
	for i := 0; i < len(opts); {
		switch opts[i] {
		case header.TCPOptionEOL:
			return true
		case header.TCPOptionNOP:
			i++
		case header.TCPOptionTS:
			i += header.TCPOptionTSLength
		default:
			return false
		}
	}
	return true
}

func (h *ackHold) WritePacket(pkt *gvstack.PacketBuffer) tcpip.Error {
	k, tcp, ok := tcpInfo(pkt)
	if !ok {
		return h.next.WritePacket(pkt)
	}
	bare := bareAck(pkt, tcp)
	ack := seqnum.Value(tcp.AckNumber())
	h.mu.Lock()
	old := h.held[k]
	hold := bare
	if old != nil {
		// Anything of this flow but a RST replaces an older bare ACK if it
		// acknowledges at least as much: the peer learns the same or more.
		if tcp.Flags()&header.TCPFlagRst == 0 && tcp.Flags()&header.TCPFlagAck != 0 && !ack.LessThan(old.ack) {
			delete(h.held, k)
			if bare && ack.Size(old.ack) == 0 || bare && old.ack.Size(ack) < bigAckStep {
				// A second bare ACK soon after the first: keep waiting,
				// from the first one's start (no ACK waits longer).
				old.pkt.DecRef()
				old.pkt, old.ack = pkt.IncRef(), ack
				h.held[k] = old
				h.mu.Unlock()
				return nil
			}
			// Data, a FIN, or a bare ACK for much more (a bulk sender's
			// ACK clock): it goes now, the old one not at all.
			old.pkt.DecRef()
			old = nil
			hold = false
		} else {
			// Older information behind a held ACK, or a reset: keep the
			// order on the wire.
			delete(h.held, k)
			hold = false
		}
	}
	if hold && !h.closed && len(h.held) < maxHeld {
		h.held[k] = &heldAck{pkt: pkt.IncRef(), ack: ack, deadline: h.now().Add(h.wait)}
		if !h.armed {
			h.armed = true
			h.timer.Reset(h.wait)
		}
		h.mu.Unlock()
		if old != nil {
			h.writeHeld(old)
		}
		return nil
	}
	h.mu.Unlock()
	if old != nil {
		h.writeHeld(old)
	}
	return h.next.WritePacket(pkt)
}

func (h *ackHold) writeHeld(a *heldAck) {
	_ = h.next.WritePacket(a.pkt)
	a.pkt.DecRef()
}

// expire writes the ACKs whose time is up. The timer is not stopped when a
// held ACK is replaced (that would cost a timer operation per round
// trip); it fires at most once per wait while ACKs are being held.
func (h *ackHold) expire() {
	var due []*heldAck
	h.mu.Lock()
	now := h.now()
	var next time.Time
	for k, a := range h.held {
		if !a.deadline.After(now) {
			due = append(due, a)
			delete(h.held, k)
		} else if next.IsZero() || a.deadline.Before(next) {
			next = a.deadline
		}
	}
	if next.IsZero() {
		h.armed = false
	} else {
		h.timer.Reset(next.Sub(now))
	}
	h.mu.Unlock()
	for _, a := range due {
		h.writeHeld(a)
	}
}

// Close writes what is held, then closes the next stage.
func (h *ackHold) Close() {
	h.mu.Lock()
	h.closed = true
	h.timer.Stop()
	h.armed = false
	held := h.held
	h.held = make(map[flowKey]*heldAck)
	h.mu.Unlock()
	for _, a := range held {
		h.writeHeld(a)
	}
	h.next.Close()
}

// directQDisc writes each packet with the link's own WritePackets, as
// gVisor does for a NIC without a queueing discipline.
type directQDisc struct{ link gvstack.LinkWriter }

func (d directQDisc) WritePacket(pkt *gvstack.PacketBuffer) tcpip.Error {
	return writeOne(d.link, pkt)
}

// oneLists lends the list of one packet that a frame written at once
// goes to its link in: made per frame, its slice escapes through the
// link's interface and costs an allocation per frame.
var oneLists = sync.Pool{New: func() any { return new(gvstack.PacketBufferList) }}

// writeOne writes pkt to link on this goroutine. Links write the list (or
// take their own references) before they return, so it is reused. Reset,
// the only way to empty a list from outside gVisor, drops a reference of
// each packet: the list takes one for it (two uncontended atomic adds,
// cheaper than the allocation).
func writeOne(link gvstack.LinkWriter, pkt *gvstack.PacketBuffer) tcpip.Error {
	pl := oneLists.Get().(*gvstack.PacketBufferList)
	pl.PushBack(pkt.IncRef())
	_, err := link.WritePackets(*pl)
	pl.Reset()
	oneLists.Put(pl)
	return err
}

func (directQDisc) Close() {}
