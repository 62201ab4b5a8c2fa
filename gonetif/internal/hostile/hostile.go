// Package hostile generates malformed and adversarial Ethernet frames for
// robustness tests: runts and jumbos, bad lengths and checksums, IP and TCP
// options garbage, truncated and overlapping fragments, ARP and NDP
// garbage, and valid-checksum frames with random bytes flipped (so the
// deeper parsers see them too).
//
// Every frame comes from Stranger, an address that is not the victim's
// peer, to ports no real connection uses, so that a frame that happens to
// be well formed cannot legitimately change the victim's real traffic.
package hostile

import (
	"encoding/binary"
	"math/rand/v2"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// Gen makes frames to one victim.
type Gen struct {
	rng        *rand.Rand
	victimMAC  tcpip.LinkAddress
	victim4    tcpip.Address
	stranger4  tcpip.Address
	victim6    tcpip.Address // the victim's link-local address
	stranger6  tcpip.Address
	strangerHW tcpip.LinkAddress

	// Classes counts the frames made per class, for the test's log.
	Classes map[string]int
}

// New returns a generator; the same seed gives the same frames.
func New(seed uint64, victimMAC tcpip.LinkAddress, victim4, stranger4 tcpip.Address) *Gen {
	return &Gen{
		rng:        rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		victimMAC:  victimMAC,
		victim4:    victim4,
		stranger4:  stranger4,
		victim6:    header.LinkLocalAddr(victimMAC),
		stranger6:  tcpip.AddrFrom16([16]byte{0xfe, 0x80, 14: 0xbe, 15: 0xef}),
		strangerHW: tcpip.LinkAddress("\x02\xba\xdb\xad\x00\x01"),
		Classes:    make(map[string]int),
	}
}

type class struct {
	name string
	make func(g *Gen) []byte
}

var classes = []class{
	{"runt", (*Gen).runt},
	{"jumbo", (*Gen).jumbo},
	{"ipv4 bad header", (*Gen).ipv4BadHeader},
	{"ipv4 options", (*Gen).ipv4Options},
	{"ipv4 fragments", (*Gen).ipv4Fragment},
	{"tcp garbage", (*Gen).tcpGarbage},
	{"udp garbage", (*Gen).udpGarbage},
	{"icmp garbage", (*Gen).icmpGarbage},
	{"arp garbage", (*Gen).arpGarbage},
	{"ipv6 garbage", (*Gen).ipv6Garbage},
	{"ndp garbage", (*Gen).ndpGarbage},
	{"flipped bytes", (*Gen).flipped},
}

// Next returns the next frame (a new slice).
func (g *Gen) Next() []byte {
	c := classes[g.rng.IntN(len(classes))]
	g.Classes[c.name]++
	return c.make(g)
}

func (g *Gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return b
}

func (g *Gen) eth(t tcpip.NetworkProtocolNumber, payload int) []byte {
	f := make([]byte, header.EthernetMinimumSize+payload)
	dst := g.victimMAC
	if g.rng.IntN(8) == 0 {
		dst = header.EthernetBroadcastAddress
	}
	header.Ethernet(f).Encode(&header.EthernetFields{SrcAddr: g.strangerHW, DstAddr: dst, Type: t})
	return f
}

// ipv4 builds a well-formed IPv4 packet (checksummed) carrying payload.
func (g *Gen) ipv4(proto tcpip.TransportProtocolNumber, payload []byte) []byte {
	f := g.eth(header.IPv4ProtocolNumber, header.IPv4MinimumSize+len(payload))
	ip := header.IPv4(f[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(ip)), TTL: 64, Protocol: uint8(proto),
		ID: uint16(g.rng.Uint32()), SrcAddr: g.stranger4, DstAddr: g.victim4})
	ip.SetChecksum(^ip.CalculateChecksum())
	copy(ip[header.IPv4MinimumSize:], payload)
	return f
}

func (g *Gen) l4Checksum(proto tcpip.TransportProtocolNumber, src, dst tcpip.Address, seg []byte, off int) {
	seg[off], seg[off+1] = 0, 0
	x := header.PseudoHeaderChecksum(proto, src, dst, uint16(len(seg)))
	binary.BigEndian.PutUint16(seg[off:], ^checksum.Checksum(seg, x))
}

func (g *Gen) tcpSegment(valid bool) []byte {
	opts := g.bytes(4 * g.rng.IntN(11)) // 0-40 bytes of option garbage
	seg := make([]byte, header.TCPMinimumSize+len(opts)+g.rng.IntN(200))
	header.TCP(seg).Encode(&header.TCPFields{SrcPort: uint16(20000 + g.rng.IntN(20000)),
		DstPort: uint16(40000 + g.rng.IntN(20000)), SeqNum: g.rng.Uint32(), AckNum: g.rng.Uint32(),
		DataOffset: uint8(header.TCPMinimumSize + len(opts)), Flags: header.TCPFlags(g.rng.Uint32()),
		WindowSize: uint16(g.rng.Uint32())})
	copy(seg[header.TCPMinimumSize:], opts)
	if g.rng.IntN(4) == 0 {
		seg[12] = byte(g.rng.Uint32()) // data offset garbage
	}
	if valid {
		g.l4Checksum(header.TCPProtocolNumber, g.stranger4, g.victim4, seg, 16)
	}
	return seg
}

func (g *Gen) runt() []byte { return g.bytes(g.rng.IntN(header.EthernetMinimumSize + 20)) }

func (g *Gen) jumbo() []byte {
	f := g.ipv4(header.UDPProtocolNumber, g.bytes(1500+g.rng.IntN(64000)))
	if g.rng.IntN(2) == 0 {
		binary.BigEndian.PutUint16(f[header.EthernetMinimumSize+2:], uint16(g.rng.Uint32()))
	}
	return f
}

func (g *Gen) ipv4BadHeader() []byte {
	f := g.ipv4(header.TCPProtocolNumber, g.tcpSegment(true))
	ip := f[header.EthernetMinimumSize:]
	switch g.rng.IntN(6) {
	case 0:
		ip[0] = byte(g.rng.Uint32()) // version and IHL
	case 1:
		binary.BigEndian.PutUint16(ip[2:], uint16(g.rng.IntN(80))) // total length too short
	case 2:
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)+1+g.rng.IntN(2000))) // longer than the frame
	case 3:
		ip[10] ^= 0xff // header checksum
		return f
	case 4:
		ip[8] = 0 // TTL 0
	case 5:
		f = f[:header.EthernetMinimumSize+g.rng.IntN(header.IPv4MinimumSize)] // truncated header
		return f
	}
	fixChecksum(ip)
	return f
}

// fixChecksum makes an IPv4 header's checksum right over the length its
// (possibly garbage) IHL claims, as far as the packet goes.
func fixChecksum(ip []byte) {
	hl := min(max(int(ip[0]&0xf)*4, header.IPv4MinimumSize), len(ip))
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], ^checksum.Checksum(ip[:hl], 0))
}

func (g *Gen) ipv4Options() []byte {
	optLen := 4 * (1 + g.rng.IntN(10))
	payload := g.tcpSegment(g.rng.IntN(2) == 0)
	f := g.eth(header.IPv4ProtocolNumber, header.IPv4MinimumSize+optLen+len(payload))
	ip := header.IPv4(f[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(ip)), TTL: 64, Protocol: uint8(header.TCPProtocolNumber),
		SrcAddr: g.stranger4, DstAddr: g.victim4})
	ip[0] = 0x40 | byte((header.IPv4MinimumSize+optLen)/4)
	ip.SetTotalLength(uint16(len(ip)))
	opts := g.bytes(optLen)
	if g.rng.IntN(2) == 0 { // a real option kind with a lying length
		opts[0] = []byte{7, 68, 131, 137, 148}[g.rng.IntN(5)] // RR, timestamp, LSRR, SSRR, router alert
		opts[1] = byte(g.rng.IntN(64))
	}
	copy(ip[header.IPv4MinimumSize:], opts)
	copy(ip[header.IPv4MinimumSize+optLen:], payload)
	fixChecksum(ip)
	return f
}

// ipv4Fragment sends pieces of a datagram: overlapping, truncated, beyond
// 64 KiB, tiny, or a lone first or last fragment.
func (g *Gen) ipv4Fragment() []byte {
	payload := g.bytes(8 * (1 + g.rng.IntN(200)))
	f := g.ipv4(header.UDPProtocolNumber, payload)
	ip := header.IPv4(f[header.EthernetMinimumSize:])
	id := uint16(g.rng.IntN(64)) // few IDs: pieces of the same datagram meet
	binary.BigEndian.PutUint16(ip[4:], id)
	offset := uint16(g.rng.IntN(8192)) // in 8-byte units, up to beyond 64 KiB
	flags := uint16(0)
	if g.rng.IntN(3) != 0 {
		flags = 0x2000 // more fragments
	}
	binary.BigEndian.PutUint16(ip[6:], flags|offset)
	if g.rng.IntN(4) == 0 {
		f = f[:len(f)-g.rng.IntN(len(payload))] // truncated: total length now lies
	}
	fixChecksum(ip)
	return f
}

func (g *Gen) tcpGarbage() []byte {
	return g.ipv4(header.TCPProtocolNumber, g.tcpSegment(g.rng.IntN(3) != 0))
}

func (g *Gen) udpGarbage() []byte {
	seg := g.bytes(header.UDPMinimumSize + g.rng.IntN(300))
	u := header.UDP(seg)
	u.SetSourcePort(uint16(20000 + g.rng.IntN(20000)))
	u.SetDestinationPort(uint16([]int{53, 67, 68, 40000 + g.rng.IntN(20000)}[g.rng.IntN(4)]))
	if g.rng.IntN(2) == 0 {
		u.SetLength(uint16(len(seg)))
		g.l4Checksum(header.UDPProtocolNumber, g.stranger4, g.victim4, seg, 6)
	}
	return g.ipv4(header.UDPProtocolNumber, seg)
}

func (g *Gen) icmpGarbage() []byte {
	seg := g.bytes(header.ICMPv4MinimumSize + g.rng.IntN(600))
	if g.rng.IntN(2) == 0 {
		seg[0] = []byte{0, 3, 5, 8, 11, 12, 13}[g.rng.IntN(7)]
		seg[2], seg[3] = 0, 0
		binary.BigEndian.PutUint16(seg[2:], ^checksum.Checksum(seg, 0))
	}
	return g.ipv4(header.ICMPv4ProtocolNumber, seg)
}

func (g *Gen) arpGarbage() []byte {
	f := g.eth(header.ARPProtocolNumber, header.ARPSize)
	a := header.ARP(f[header.EthernetMinimumSize:])
	a.SetIPv4OverEthernet()
	a.SetOp(header.ARPOp(g.rng.IntN(4)))
	copy(a.HardwareAddressSender(), g.strangerHW)
	copy(a.ProtocolAddressSender(), g.stranger4.AsSlice())
	copy(a.ProtocolAddressTarget(), g.victim4.AsSlice())
	switch g.rng.IntN(4) {
	case 0:
		copy(a, g.bytes(8)) // hardware/protocol types and sizes
	case 1:
		f = f[:header.EthernetMinimumSize+g.rng.IntN(header.ARPSize)]
	case 2:
		f = append(f, g.bytes(g.rng.IntN(100))...)
	}
	return f
}

func (g *Gen) ipv6(next tcpip.TransportProtocolNumber, payload []byte) []byte {
	f := g.eth(header.IPv6ProtocolNumber, header.IPv6MinimumSize+len(payload))
	ip := header.IPv6(f[header.EthernetMinimumSize:])
	dst := g.victim6
	if g.rng.IntN(3) == 0 {
		dst = header.IPv6AllNodesMulticastAddress
	}
	ip.Encode(&header.IPv6Fields{PayloadLength: uint16(len(payload)), TransportProtocol: next,
		HopLimit: 255, SrcAddr: g.stranger6, DstAddr: dst})
	copy(ip[header.IPv6MinimumSize:], payload)
	return f
}

func (g *Gen) ipv6Garbage() []byte {
	// Extension header chains with garbage: hop-by-hop (0), routing (43),
	// fragment (44), destination options (60).
	ext := g.bytes(8 * (1 + g.rng.IntN(6)))
	ext[0] = []byte{0, 6, 17, 43, 44, 58, 59, 60}[g.rng.IntN(8)]
	ext[1] = byte(g.rng.IntN(8))
	next := tcpip.TransportProtocolNumber([]byte{0, 43, 44, 60}[g.rng.IntN(4)])
	f := g.ipv6(next, ext)
	if g.rng.IntN(3) == 0 {
		binary.BigEndian.PutUint16(f[header.EthernetMinimumSize+4:], uint16(g.rng.Uint32())) // payload length lies
	}
	return f
}

func (g *Gen) ndpGarbage() []byte {
	// Neighbor solicitation/advertisement, router advertisement and
	// redirect with option garbage (zero-length options, lying lengths);
	// the checksum is right half of the time.
	types := []header.ICMPv6Type{header.ICMPv6NeighborSolicit, header.ICMPv6NeighborAdvert,
		header.ICMPv6RouterAdvert, header.ICMPv6RouterSolicit, header.ICMPv6RedirectMsg}
	body := g.bytes(header.ICMPv6MinimumSize + 20 + 8*g.rng.IntN(8))
	body[0] = byte(types[g.rng.IntN(len(types))])
	body[1] = 0
	if header.ICMPv6Type(body[0]) == header.ICMPv6RouterAdvert {
		// No default router and no usable prefix may come out of it: a
		// zero router lifetime, and option bytes that never form a valid
		// prefix information option (type 3 with length 4).
		body[6], body[7] = 0, 0
		for i := 16; i+1 < len(body); i += 8 {
			if body[i] == 3 {
				body[i] = 1
			}
		}
	}
	f := g.ipv6(header.ICMPv6ProtocolNumber, body)
	if g.rng.IntN(2) == 0 {
		ip := header.IPv6(f[header.EthernetMinimumSize:])
		body[2], body[3] = 0, 0
		x := header.PseudoHeaderChecksum(header.ICMPv6ProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), uint16(len(body)))
		binary.BigEndian.PutUint16(ip[header.IPv6MinimumSize+2:], ^checksum.Checksum(body, x))
	}
	return f
}

// flipped takes a well-formed TCP/UDP/ICMP frame, flips a few random bytes
// past the Ethernet header and fixes the IPv4 header checksum, so the
// transport parsers see the damage.
func (g *Gen) flipped() []byte {
	var f []byte
	switch g.rng.IntN(3) {
	case 0:
		f = g.ipv4(header.TCPProtocolNumber, g.tcpSegment(true))
	case 1:
		f = g.udpGarbage()
	default:
		f = g.icmpGarbage()
	}
	for n := 1 + g.rng.IntN(4); n > 0; n-- {
		i := header.EthernetMinimumSize + g.rng.IntN(len(f)-header.EthernetMinimumSize)
		f[i] = byte(g.rng.Uint32())
	}
	ip := header.IPv4(f[header.EthernetMinimumSize:])
	if ip.IsValid(len(ip)) {
		// Keep the addresses: damage must not make it a packet from the
		// victim's real peer.
		copy(ip[12:16], g.stranger4.AsSlice())
		copy(ip[16:20], g.victim4.AsSlice())
		fixChecksum(ip)
	}
	return f
}
