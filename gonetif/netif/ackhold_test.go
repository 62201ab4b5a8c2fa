package netif

import (
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

type wrote struct {
	sport uint16
	flags header.TCPFlags
	ack   uint32
	data  int
	at    time.Time
}

// recorder is the stage after the hold: it notes what reaches it.
type recorder struct {
	mu     sync.Mutex
	got    []wrote
	closed bool
}

func (r *recorder) WritePacket(pkt *gvstack.PacketBuffer) tcpip.Error {
	tcp := header.TCP(pkt.TransportHeader().Slice())
	r.mu.Lock()
	r.got = append(r.got, wrote{tcp.SourcePort(), tcp.Flags(), tcp.AckNumber(), pkt.Data().Size(), time.Now()})
	r.mu.Unlock()
	return nil
}

func (r *recorder) Close() { r.mu.Lock(); r.closed = true; r.mu.Unlock() }

func (r *recorder) written() []wrote {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wrote(nil), r.got...)
}

var tsOption = []byte{header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionTS, header.TCPOptionTSLength, 0, 0, 0, 1, 0, 0, 0, 2}

// sackOption: NOP, NOP, one SACK block.
var sackOption = []byte{header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionSACK, 10, 0, 0, 0, 9, 0, 0, 0, 19}

func tcpPacket(sport uint16, flags header.TCPFlags, ack uint32, opts []byte, payload int) *gvstack.PacketBuffer {
	tcpLen := header.TCPMinimumSize + len(opts)
	pkt := gvstack.NewPacketBuffer(gvstack.PacketBufferOptions{
		ReserveHeaderBytes: header.IPv4MinimumSize + tcpLen,
		Payload:            buffer.MakeWithData(make([]byte, payload)),
	})
	tcp := header.TCP(pkt.TransportHeader().Push(tcpLen))
	tcp.Encode(&header.TCPFields{SrcPort: sport, DstPort: 80, SeqNum: 1, AckNum: ack,
		DataOffset: uint8(tcpLen), Flags: flags, WindowSize: 1000})
	copy(tcp[header.TCPMinimumSize:], opts)
	ip := header.IPv4(pkt.NetworkHeader().Push(header.IPv4MinimumSize))
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(header.IPv4MinimumSize + tcpLen + payload), Protocol: uint8(header.TCPProtocolNumber),
		TTL: 64, SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), DstAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 2})})
	pkt.NetworkProtocolNumber = header.IPv4ProtocolNumber
	pkt.TransportProtocolNumber = header.TCPProtocolNumber
	return pkt
}

// send writes pkt through h and drops the caller's reference, as gVisor does.
func send(t *testing.T, h *ackHold, pkt *gvstack.PacketBuffer) {
	t.Helper()
	if err := h.WritePacket(pkt); err != nil {
		t.Fatal(err)
	}
	pkt.DecRef()
}

func waitWritten(r *recorder, n int, limit time.Duration) []wrote {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		if w := r.written(); len(w) >= n {
			return w
		}
		time.Sleep(time.Millisecond)
	}
	return r.written()
}

// testHold is long enough that a stalled test machine does not expire an
// ACK between two calls that should see it held.
const testHold = 150 * time.Millisecond

func TestAckHoldDataReplacesBareAck(t *testing.T) {
	r := &recorder{}
	h := newAckHold(r, time.Hour)
	send(t, h, tcpPacket(1000, header.TCPFlagAck, 500, tsOption, 0))
	if w := r.written(); len(w) != 0 {
		t.Fatalf("a bare ACK was written at once: %+v", w)
	}
	send(t, h, tcpPacket(1000, header.TCPFlagAck|header.TCPFlagPsh, 500, tsOption, 1))
	h.Close() // writes whatever is still held
	w := r.written()
	if len(w) != 1 || w[0].data != 1 {
		t.Fatalf("want only the data segment, got %+v", w)
	}
}

func TestAckHoldWritesAloneAckWhenTimeIsUp(t *testing.T) {
	r := &recorder{}
	h := newAckHold(r, testHold)
	defer h.Close()
	start := time.Now()
	send(t, h, tcpPacket(1000, header.TCPFlagAck, 500, nil, 0))
	w := waitWritten(r, 1, 5*time.Second)
	if len(w) != 1 || w[0].ack != 500 {
		t.Fatalf("held ACK never written: %+v", w)
	}
	if d := w[0].at.Sub(start); d < testHold*9/10 {
		t.Fatalf("held ACK written after %v, before its hold of %v", d, testHold)
	}
	// The timer is idle again; the next ACK is held and written too.
	send(t, h, tcpPacket(1000, header.TCPFlagAck, 600, nil, 0))
	if w := waitWritten(r, 2, 5*time.Second); len(w) != 2 || w[1].ack != 600 {
		t.Fatalf("second held ACK: %+v", w)
	}
}

func TestAckHoldPassesAtOnce(t *testing.T) {
	for name, pkt := range map[string]func() *gvstack.PacketBuffer{
		"SACK":    func() *gvstack.PacketBuffer { return tcpPacket(1000, header.TCPFlagAck, 500, sackOption, 0) },
		"data":    func() *gvstack.PacketBuffer { return tcpPacket(1000, header.TCPFlagAck, 500, nil, 10) },
		"FIN":     func() *gvstack.PacketBuffer { return tcpPacket(1000, header.TCPFlagAck|header.TCPFlagFin, 500, nil, 0) },
		"SYN-ACK": func() *gvstack.PacketBuffer { return tcpPacket(1000, header.TCPFlagAck|header.TCPFlagSyn, 500, nil, 0) },
		"RST":     func() *gvstack.PacketBuffer { return tcpPacket(1000, header.TCPFlagRst, 0, nil, 0) },
	} {
		r := &recorder{}
		h := newAckHold(r, time.Hour)
		send(t, h, pkt())
		if w := r.written(); len(w) != 1 {
			t.Errorf("%s: held (%d written)", name, len(w))
		}
		h.Close()
	}
}

func TestAckHoldOtherFlowDoesNotReplace(t *testing.T) {
	r := &recorder{}
	h := newAckHold(r, testHold)
	defer h.Close()
	send(t, h, tcpPacket(1000, header.TCPFlagAck, 500, nil, 0))
	send(t, h, tcpPacket(1001, header.TCPFlagAck, 700, nil, 5))
	if w := r.written(); len(w) != 1 || w[0].sport != 1001 {
		t.Fatalf("other flow's data: %+v", w)
	}
	if w := waitWritten(r, 2, 5*time.Second); len(w) != 2 || w[1].sport != 1000 || w[1].ack != 500 {
		t.Fatalf("first flow's ACK lost: %+v", w)
	}
}

func TestAckHoldBareAckSequence(t *testing.T) {
	r := &recorder{}
	h := newAckHold(r, testHold)
	defer h.Close()
	// A small step (a FIN's ACK after data's): the newer one waits on.
	send(t, h, tcpPacket(1000, header.TCPFlagAck, 500, nil, 0))
	send(t, h, tcpPacket(1000, header.TCPFlagAck, 501, nil, 0))
	if w := r.written(); len(w) != 0 {
		t.Fatalf("small step written at once: %+v", w)
	}
	w := waitWritten(r, 1, 5*time.Second)
	time.Sleep(2 * testHold)
	if w = r.written(); len(w) != 1 || w[0].ack != 501 {
		t.Fatalf("want the newer ACK once: %+v", w)
	}
	// A big step (a bulk sender's burst): the newer one goes at once, the
	// older one never.
	send(t, h, tcpPacket(1000, header.TCPFlagAck, 1000, nil, 0))
	send(t, h, tcpPacket(1000, header.TCPFlagAck, 1000+bigAckStep, nil, 0))
	w = r.written()
	if len(w) != 2 || w[1].ack != 1000+bigAckStep {
		t.Fatalf("big step: %+v", w)
	}
	time.Sleep(2 * testHold)
	if w = r.written(); len(w) != 2 {
		t.Fatalf("superseded ACK written later: %+v", w)
	}
}

func TestAckHoldKeepsOrderBeforeReset(t *testing.T) {
	r := &recorder{}
	h := newAckHold(r, time.Hour)
	defer h.Close()
	send(t, h, tcpPacket(1000, header.TCPFlagAck, 500, nil, 0))
	send(t, h, tcpPacket(1000, header.TCPFlagRst|header.TCPFlagAck, 500, nil, 0))
	w := r.written()
	if len(w) != 2 || w[0].flags != header.TCPFlagAck || w[1].flags&header.TCPFlagRst == 0 {
		t.Fatalf("want the held ACK, then the reset: %+v", w)
	}
}

func TestAckHoldCloseWritesHeld(t *testing.T) {
	r := &recorder{}
	h := newAckHold(r, time.Hour)
	send(t, h, tcpPacket(1000, header.TCPFlagAck, 500, nil, 0))
	send(t, h, tcpPacket(1001, header.TCPFlagAck, 600, nil, 0))
	h.Close()
	if w := r.written(); len(w) != 2 || !r.closed {
		t.Fatalf("close: written %+v, next closed %v", w, r.closed)
	}
}
