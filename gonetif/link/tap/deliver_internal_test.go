package tap

import (
	"math/rand/v2"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// These tests drive the reader's frame handling without a TAP, so they run
// unprivileged.

type recorder struct{ sizes []int }

func (r *recorder) DeliverNetworkPacket(_ tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	r.sizes = append(r.sizes, pkt.Size()) // Size counts the consumed link header
}
func (r *recorder) DeliverLinkPacket(tcpip.NetworkProtocolNumber, *stack.PacketBuffer) {}

const peerMAC = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01")

// tcpFrame builds a valid Ethernet/IPv4/TCP frame to DefaultMAC.
func tcpFrame(dst tcpip.LinkAddress, payload int) []byte {
	ipLen := header.IPv4MinimumSize + header.TCPMinimumSize + payload
	f := make([]byte, header.EthernetMinimumSize+ipLen)
	header.Ethernet(f).Encode(&header.EthernetFields{SrcAddr: peerMAC, DstAddr: dst, Type: header.IPv4ProtocolNumber})
	src, to := tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), tcpip.AddrFrom4([4]byte{10, 0, 0, 2})
	ip := header.IPv4(f[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(ipLen), TTL: 64, Protocol: uint8(header.TCPProtocolNumber), SrcAddr: src, DstAddr: to})
	ip.SetChecksum(^ip.CalculateChecksum())
	tcp := header.TCP(ip[header.IPv4MinimumSize:])
	tcp.Encode(&header.TCPFields{SrcPort: 1, DstPort: 2, DataOffset: header.TCPMinimumSize, Flags: header.TCPFlagAck, WindowSize: 100})
	for i := range tcp[header.TCPMinimumSize:] {
		tcp[header.TCPMinimumSize+i] = byte(i)
	}
	xsum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, src, to, uint16(len(tcp)))
	tcp.SetChecksum(^checksum.Checksum(tcp, xsum))
	return f
}

func newTestEndpoint(vnet bool) (*Endpoint, *recorder) {
	e := &Endpoint{vnet: vnet}
	mac := DefaultMAC
	e.addr.Store(&mac)
	r := &recorder{}
	var d stack.NetworkDispatcher = r
	e.dispatcher.Store(&d)
	return e, r
}

// feed places a vnet header and a frame where readv would have put them
// and hands n bytes to deliver; n lets tests lie about the length.
func feed(e *Endpoint, rx *rxState, vh *vnetHdr, frame []byte, n int) {
	rx.prepare(e.vnet)
	if vh != nil {
		vh.encode(rx.hdr[:])
	}
	k := copy(rx.first.AsSlice(), frame)
	copy(rx.rest.AsSlice(), frame[k:])
	e.deliver(rx, n)
}

func TestDeliverValidation(t *testing.T) {
	e, rec := newTestEndpoint(true)
	var rx rxState
	defer rx.release()
	good := tcpFrame(DefaultMAC, 100)
	big := tcpFrame(DefaultMAC, 5000) // spans both views
	badTCP := tcpFrame(DefaultMAC, 100)
	badTCP[len(badTCP)-1] ^= 0xff
	badIP := tcpFrame(DefaultMAC, 100)
	badIP[header.EthernetMinimumSize+8]-- // TTL, header checksum now wrong
	withLen := func(f []byte) int { return vnetHdrLen + len(f) }

	steps := []struct {
		name  string
		vh    vnetHdr
		frame []byte
		n     int
		want  Stats
	}{
		{"good", vnetHdr{}, good, withLen(good), Stats{RxFrames: 1}},
		{"big unflagged", vnetHdr{}, big, withLen(big), Stats{RxFrames: 1}},
		{"short read", vnetHdr{}, good, 4, Stats{RxMalformed: 1}},
		{"runt frame", vnetHdr{}, good, vnetHdrLen + 6, Stats{RxMalformed: 1}},
		{"truncated", vnetHdr{}, good, vnetHdrLen + rxCapacity + 1, Stats{RxMalformed: 1}},
		{"udp gso", vnetHdr{gsoType: vnetGSOUDP}, good, withLen(good), Stats{RxMalformed: 1}},
		{"csum out of frame", vnetHdr{flags: vnetFlagNeedsCsum, csumStart: 60000, csumOffset: 16}, good, withLen(good), Stats{RxMalformed: 1}},
		{"bad tcp csum", vnetHdr{}, badTCP, withLen(badTCP), Stats{RxBadChecksum: 1}},
		{"bad ip csum", vnetHdr{}, badIP, withLen(badIP), Stats{RxBadChecksum: 1}},
		{"bad csum, kernel vouches", vnetHdr{flags: vnetFlagDataValid}, badTCP, withLen(badTCP), Stats{RxFrames: 1}},
		{"partial csum", vnetHdr{flags: vnetFlagNeedsCsum, csumStart: 34, csumOffset: 16}, badTCP, withLen(badTCP), Stats{RxFrames: 1}},
		{"gso tcp", vnetHdr{flags: vnetFlagNeedsCsum, gsoType: vnetGSOTCPv4, gsoSize: 1448, csumStart: 34, csumOffset: 16}, big, withLen(big), Stats{RxFrames: 1, RxGSO: 1}},
		{"other host", vnetHdr{}, tcpFrame(peerMAC, 10), withLen(tcpFrame(peerMAC, 10)), Stats{RxDropped: 1}},
	}
	for _, s := range steps {
		before := e.Stats()
		delivered := len(rec.sizes)
		feed(e, &rx, &s.vh, s.frame, s.n)
		after := e.Stats()
		got := Stats{
			RxFrames: after.RxFrames - before.RxFrames, RxGSO: after.RxGSO - before.RxGSO,
			RxDropped: after.RxDropped - before.RxDropped, RxMalformed: after.RxMalformed - before.RxMalformed,
			RxBadChecksum: after.RxBadChecksum - before.RxBadChecksum,
		}
		if got != s.want {
			t.Errorf("%s: counters moved by %+v, want %+v", s.name, got, s.want)
		}
		if s.want.RxFrames == 1 {
			if len(rec.sizes) != delivered+1 || rec.sizes[delivered] != len(s.frame) {
				t.Errorf("%s: delivered %v, want one frame of %d bytes", s.name, rec.sizes[delivered:], len(s.frame))
			}
		} else if len(rec.sizes) != delivered {
			t.Errorf("%s: a rejected frame was delivered", s.name)
		}
	}
}

// TestDeliverFuzz feeds random headers and frames: nothing may panic.
func TestDeliverFuzz(t *testing.T) {
	for _, vnet := range []bool{true, false} {
		e, _ := newTestEndpoint(vnet)
		var rx rxState
		rng := rand.New(rand.NewPCG(1, 2))
		base := tcpFrame(DefaultMAC, 3000)
		for i := 0; i < 3000; i++ {
			f := append([]byte(nil), base[:rng.IntN(len(base))]...)
			for j := rng.IntN(8); j > 0 && len(f) > 0; j-- {
				f[rng.IntN(len(f))] = byte(rng.Uint32())
			}
			vh := vnetHdr{flags: uint8(rng.Uint32()), gsoType: uint8(rng.Uint32()),
				csumStart: uint16(rng.Uint32()), csumOffset: uint16(rng.Uint32())}
			n := len(f)
			if vnet {
				n += vnetHdrLen
			}
			if rng.IntN(10) == 0 {
				n = rng.IntN(rxCapacity + 100)
			}
			feed(e, &rx, &vh, f, n)
		}
		rx.release()
		t.Logf("vnet=%t: %+v", vnet, e.Stats())
	}
}

func TestChecksumVerifierIPv6(t *testing.T) {
	payload := 40
	f := make([]byte, header.EthernetMinimumSize+header.IPv6MinimumSize+header.UDPMinimumSize+payload)
	header.Ethernet(f).Encode(&header.EthernetFields{SrcAddr: peerMAC, DstAddr: DefaultMAC, Type: header.IPv6ProtocolNumber})
	src := tcpip.AddrFrom16([16]byte{0xfe, 0x80, 15: 1})
	dst := tcpip.AddrFrom16([16]byte{0xfe, 0x80, 15: 2})
	ip := header.IPv6(f[header.EthernetMinimumSize:])
	ulen := header.UDPMinimumSize + payload
	ip.Encode(&header.IPv6Fields{PayloadLength: uint16(ulen), TransportProtocol: header.UDPProtocolNumber, HopLimit: 64, SrcAddr: src, DstAddr: dst})
	u := header.UDP(ip[header.IPv6MinimumSize:])
	u.Encode(&header.UDPFields{SrcPort: 1, DstPort: 2, Length: uint16(ulen)})
	xsum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, src, dst, uint16(ulen))
	u.SetChecksum(^checksum.Checksum(u, xsum))
	if !frameChecksumsOK(f, nil) {
		t.Fatalf("valid IPv6/UDP frame rejected")
	}
	// Split at an odd offset: the verifier must not care where views end.
	if !frameChecksumsOK(f[:71], f[71:]) {
		t.Fatalf("valid IPv6/UDP frame rejected when split")
	}
	f[len(f)-1] ^= 1
	if frameChecksumsOK(f, nil) {
		t.Fatalf("corrupt IPv6/UDP frame accepted")
	}
}

func TestVnetHdrRoundTrip(t *testing.T) {
	in := vnetHdr{flags: 1, gsoType: 4, hdrLen: 74, gsoSize: 1428, csumStart: 54, csumOffset: 16}
	var b [vnetHdrLen]byte
	in.encode(b[:])
	want := [vnetHdrLen]byte{1, 4, 74, 0, 0x94, 0x05, 54, 0, 16, 0}
	if b != want {
		t.Fatalf("encoded %v, want %v (little-endian virtio_net_hdr)", b, want)
	}
	var out vnetHdr
	out.decode(b[:])
	if out != in {
		t.Fatalf("decoded %+v, want %+v", out, in)
	}
}
