// Command demuxdiff drives gVisor's transport demuxer through a stack with
// three NICs: a fixed random sequence of UDP endpoints bound to two ports,
// to a device or none, with reuse flags, some connected, some closed, and
// datagrams injected on every NIC. It prints which endpoints each
// datagram reached (or why an operation failed), one a line, then the
// heap bytes one connected endpoint's demuxer entry holds.
// TestDemuxOverlayUnchanged runs it built with and without the overlay
// and compares.
package main

import (
	"bytes"
	"flag"
	"fmt"
	orand "math/rand"
	mrand "math/rand/v2"
	"runtime"
	"strings"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

const nics = 3

func main() {
	ops := flag.Int("ops", 6000, "random operations")
	held := flag.Int("mem", 5000, "connected endpoints for the memory figure")
	flag.Parse()
	trace(*ops)
	fmt.Printf("bytes per connected endpoint %d\n", perEndpoint(*held))
}

func local(nic int) tcpip.Address  { return tcpip.AddrFrom4([4]byte{10, 0, byte(nic), 1}) }
func remote(nic int) tcpip.Address { return tcpip.AddrFrom4([4]byte{10, 0, byte(nic), 2}) }

// newStack's random sources are its own, seeded: the demuxer's hash seed
// is the same in both builds, and the stack's draws (from its own
// goroutines too) leave the operations' sequence alone.
func newStack() (*stack.Stack, []*channel.Endpoint) {
	r := mrand.New(mrand.NewPCG(3, 4))
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{udp.NewProtocol},
		RandSource:         orand.NewSource(r.Int64()),
		SecureRNG:          seeded{mrand.New(mrand.NewPCG(5, 6))},
	})
	links := make([]*channel.Endpoint, nics+1)
	for nic := 1; nic <= nics; nic++ {
		links[nic] = channel.New(4, 1500, "")
		if err := s.CreateNIC(tcpip.NICID(nic), links[nic]); err != nil {
			panic(err.String())
		}
		pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: local(nic).WithPrefix()}
		pa.AddressWithPrefix.PrefixLen = 24
		if err := s.AddProtocolAddress(tcpip.NICID(nic), pa, stack.AddressProperties{}); err != nil {
			panic(err.String())
		}
		s.AddRoute(tcpip.Route{Destination: pa.AddressWithPrefix.Subnet(), NIC: tcpip.NICID(nic)})
	}
	return s, links
}

// datagram is an IPv4/UDP packet from remote(nic):srcPort to local(nic):dstPort.
func datagram(nic int, srcPort, dstPort uint16, payload []byte) *stack.PacketBuffer {
	b := make([]byte, header.IPv4MinimumSize+header.UDPMinimumSize+len(payload))
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(b)), TTL: 64, Protocol: uint8(udp.ProtocolNumber), SrcAddr: remote(nic), DstAddr: local(nic)})
	ip.SetChecksum(^ip.CalculateChecksum())
	u := header.UDP(b[header.IPv4MinimumSize:])
	u.Encode(&header.UDPFields{SrcPort: srcPort, DstPort: dstPort, Length: uint16(header.UDPMinimumSize + len(payload))})
	copy(u.Payload(), payload)
	return stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(b)})
}

// seeded is the stack's "secure" random source, from the fixed sequence.
type seeded struct{ r *mrand.Rand }

func (s seeded) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint32())
	}
	return len(p), nil
}

type sock struct {
	id   int
	ep   tcpip.Endpoint
	desc string
}

func trace(n int) {
	r := mrand.New(mrand.NewPCG(11, 12))
	s, links := newStack()
	var live []sock
	next := 0
	for op := 0; op < n; op++ {
		switch k := r.IntN(10); {
		case k < 4 || len(live) == 0: // a new endpoint
			var wq waiter.Queue
			ep, err := s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
			if err != nil {
				panic(err.String())
			}
			dev, port := r.IntN(nics+1), uint16(1000+r.IntN(2))
			ra, rp := r.IntN(2) == 0, r.IntN(2) == 0
			ep.SocketOptions().SetReuseAddress(ra)
			ep.SocketOptions().SetReusePort(rp)
			desc := fmt.Sprintf("dev %d port %d reuseaddr %v reuseport %v", dev, port, ra, rp)
			if err := ep.SocketOptions().SetBindToDevice(int32(dev)); err != nil {
				fmt.Printf("%d bindtodevice %s: %s\n", op, desc, err)
				ep.Close()
				continue
			}
			if err := ep.Bind(tcpip.FullAddress{Port: port}); err != nil {
				fmt.Printf("%d bind %s: %s\n", op, desc, err)
				ep.Close()
				continue
			}
			if r.IntN(3) == 0 {
				nic := dev
				if nic == 0 {
					nic = 1 + r.IntN(nics)
				}
				rport := uint16(5000 + r.IntN(2))
				desc += fmt.Sprintf(" connected to nic %d port %d", nic, rport)
				if err := ep.Connect(tcpip.FullAddress{Addr: remote(nic), Port: rport}); err != nil {
					fmt.Printf("%d connect %s: %s\n", op, desc, err)
					ep.Close()
					continue
				}
			}
			live = append(live, sock{id: next, ep: ep, desc: desc})
			fmt.Printf("%d open %d: %s\n", op, next, desc)
			next++
		case k < 6: // close one
			i := r.IntN(len(live))
			live[i].ep.Close()
			fmt.Printf("%d close %d\n", op, live[i].id)
			live = append(live[:i], live[i+1:]...)
		default: // a datagram on a random NIC, read back from every endpoint
			nic, sport, dport := 1+r.IntN(nics), uint16(5000+r.IntN(2)), uint16(1000+r.IntN(2))
			payload := []byte(fmt.Sprintf("op%d", op))
			pkt := datagram(nic, sport, dport, payload)
			links[nic].InjectInbound(ipv4.ProtocolNumber, pkt)
			pkt.DecRef()
			var got []string
			for _, so := range live {
				var buf bytes.Buffer
				for {
					if _, err := so.ep.Read(&buf, tcpip.ReadOptions{}); err != nil {
						break
					}
				}
				if buf.Len() > 0 {
					got = append(got, fmt.Sprintf("%d:%s", so.id, buf.String()))
				}
			}
			fmt.Printf("%d datagram nic %d %d->%d: [%s]\n", op, nic, sport, dport, strings.Join(got, " "))
		}
	}
	for _, so := range live {
		so.ep.Close()
	}
}

// perEndpoint: heap held per connected endpoint on one NIC, each with its
// own demuxer entry (the UDP endpoint itself is in both builds alike).
func perEndpoint(n int) int {
	s, _ := newStack()
	eps := make([]tcpip.Endpoint, 0, n)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for i := 0; i < n; i++ {
		var wq waiter.Queue
		ep, err := s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
		if err != nil {
			panic(err.String())
		}
		if err := ep.Bind(tcpip.FullAddress{Port: uint16(2000 + i)}); err != nil {
			panic(err.String())
		}
		if err := ep.Connect(tcpip.FullAddress{Addr: remote(1), Port: 7}); err != nil {
			panic(err.String())
		}
		eps = append(eps, ep)
	}
	after := heap()
	runtime.KeepAlive(eps)
	return int(after-before) / n
}
