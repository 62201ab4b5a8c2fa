package tap

import (
	"bytes"
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// udpTestPacket builds what gVisor hands a link for one IPv4 UDP
// datagram, complete checksums included.
func udpTestPacket(dstMAC tcpip.LinkAddress, src, dst tcpip.Address, srcPort, dstPort, id uint16, payload []byte) *stack.PacketBuffer {
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
		ReserveHeaderBytes: usoHdrLen,
		Payload:            buffer.MakeWithData(payload),
	})
	ulen := uint16(header.UDPMinimumSize + len(payload))
	udp := header.UDP(pkt.TransportHeader().Push(header.UDPMinimumSize))
	udp.Encode(&header.UDPFields{SrcPort: srcPort, DstPort: dstPort, Length: ulen})
	sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, src, dst, ulen)
	sum = checksum.Combine(sum, checksum.Checksum(payload, 0))
	udp.SetChecksum(^udp.CalculateChecksum(sum))
	ip := header.IPv4(pkt.NetworkHeader().Push(header.IPv4MinimumSize))
	ip.Encode(&header.IPv4Fields{TotalLength: header.IPv4MinimumSize + ulen, ID: id, TTL: 64,
		Protocol: uint8(header.UDPProtocolNumber), SrcAddr: src, DstAddr: dst})
	ip.SetChecksum(^ip.CalculateChecksum())
	pkt.NetworkProtocolNumber = header.IPv4ProtocolNumber
	pkt.TransportProtocolNumber = header.UDPProtocolNumber
	eth := header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize))
	eth.Encode(&header.EthernetFields{SrcAddr: DefaultMAC, DstAddr: dstMAC, Type: header.IPv4ProtocolNumber})
	return pkt
}

// TestUSOFrameLayout reads a merged frame back from a socket pair and
// checks it as a NIC would: the IPv4 header, the lengths, the
// virtio-net header, and that finishing the partial checksum the header
// asks for gives a valid UDP checksum over the whole frame, from which
// the kernel derives each segment's.
func TestUSOFrameLayout(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	e := &Endpoint{fd: fds[0], vnet: true, uso: true}
	defer unix.Close(fds[0])
	e.txPool.New = func() any { return &txScratch{} }
	src, dst := tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), tcpip.AddrFrom4([4]byte{10, 0, 0, 1})
	var pkts stack.PacketBufferList
	var payload []byte
	for i := 0; i < 5; i++ {
		b := bytes.Repeat([]byte{byte(i + 1)}, 33) // odd size: the sum's byte pairing matters
		payload = append(payload, b...)
		pkts.PushBack(udpTestPacket(peerMAC, src, dst, 5000, 6000, uint16(100+i), b))
	}
	if n, err := e.WritePackets(pkts); n != 5 || err != nil {
		t.Fatalf("WritePackets = %d, %v", n, err)
	}
	pkts.Reset()
	buf := make([]byte, 4096)
	n, err := unix.Read(fds[1], buf)
	if err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.TxFrames != 1 || st.TxUSOSegs != 5 {
		t.Fatalf("stats %+v, want one frame of 5 datagrams", st)
	}
	var h vnetHdr
	h.decode(buf)
	f := buf[vnetHdrLen:n]
	if h.flags != vnetFlagNeedsCsum || h.gsoType != vnetGSOUDPL4 || h.gsoSize != 33 || h.hdrLen != usoHdrLen ||
		h.csumStart != 34 || h.csumOffset != 6 {
		t.Fatalf("vnet header %+v", h)
	}
	if len(f) != usoHdrLen+len(payload) || !bytes.Equal(f[usoHdrLen:], payload) {
		t.Fatalf("frame of %d bytes, want %d with the payloads in order", len(f), usoHdrLen+len(payload))
	}
	ip := header.IPv4(f[header.EthernetMinimumSize:])
	if !ip.IsValid(len(ip)) || ip.CalculateChecksum() != 0xffff || int(ip.TotalLength()) != len(ip) || ip.ID() != 100 {
		t.Fatalf("IPv4 header %x: total %d of %d, id %d", ip[:20], ip.TotalLength(), len(ip), ip.ID())
	}
	udp := header.UDP(ip[header.IPv4MinimumSize:])
	if int(udp.Length()) != len(udp) || udp.SourcePort() != 5000 || udp.DestinationPort() != 6000 {
		t.Fatalf("UDP header %x", udp[:8])
	}
	// Finish the checksum as NEEDS_CSUM asks: sum from csum_start on,
	// complement, store at csum_start+csum_offset.
	l4 := f[h.csumStart:]
	binary.BigEndian.PutUint16(l4[h.csumOffset:], ^checksum.Checksum(l4, 0))
	pseudo := header.PseudoHeaderChecksum(header.UDPProtocolNumber, src, dst, uint16(len(udp)))
	if got := checksum.Checksum(udp, pseudo); got != 0xffff {
		t.Fatalf("finished UDP checksum does not verify: sum %#x", got)
	}
}

// TestUSORunBoundaries: what usoRun merges and what it leaves alone.
func TestUSORunBoundaries(t *testing.T) {
	a, b := tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), tcpip.AddrFrom4([4]byte{10, 0, 0, 1})
	p := func(dport uint16, size int) *stack.PacketBuffer {
		return udpTestPacket(peerMAC, a, b, 1, dport, 0, make([]byte, size))
	}
	frag := p(7, 10)
	header.IPv4(frag.NetworkHeader().Slice()).SetFlagsFragmentOffset(header.IPv4FlagMoreFragments, 0)
	cases := []struct {
		name string
		pkts []*stack.PacketBuffer
		want int
	}{
		{"alone", []*stack.PacketBuffer{p(7, 10)}, 1},
		{"equal", []*stack.PacketBuffer{p(7, 10), p(7, 10), p(7, 10)}, 3},
		{"size change", []*stack.PacketBuffer{p(7, 10), p(7, 10), p(7, 11)}, 2},
		{"port change", []*stack.PacketBuffer{p(7, 10), p(8, 10)}, 1},
		{"fragment", []*stack.PacketBuffer{frag, p(7, 10)}, 1},
		{"empty payload", []*stack.PacketBuffer{p(7, 0), p(7, 0)}, 1},
		{"64 at most", func() (l []*stack.PacketBuffer) {
			for range 70 {
				l = append(l, p(7, 10))
			}
			return
		}(), 64},
		{"64 KiB at most", func() (l []*stack.PacketBuffer) {
			for range 10 {
				l = append(l, p(7, 8000))
			}
			return
		}(), 8},
	}
	for _, c := range cases {
		if got := usoRun(c.pkts); got != c.want {
			t.Errorf("%s: usoRun = %d, want %d", c.name, got, c.want)
		}
		for _, pkt := range c.pkts {
			pkt.DecRef()
		}
	}
}
