package socket

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/netif"
)

// The UDP fast path (GONETIF_UDP_FASTPATH, off by default; docs/DESIGN.md
// D21): a connected IPv4 UDP socket with plain options builds
// its datagrams' IP and UDP headers itself, from a snapshot of what
// gVisor's send would use (route, resolved neighbour, TTL, TOS, DF,
// checksum), and hands them to the interface's FrameOut, skipping the
// endpoint, route and network-layer work of gVisor's send per datagram.
// Anything the snapshot does not cover goes gVisor's way: the first
// datagram after any socket or interface change and one every
// udpFastRefresh (so gVisor's neighbour states keep moving as with every
// datagram), datagrams larger than the MTU, sendto, MSG_MORE and cork.

// udpFastRefresh bounds how long a snapshot is used (ns): a neighbour
// whose link address changed is followed within this time. A variable for
// tests that count which datagrams took the fast path.
var udpFastRefresh = int64(1e6)

// FrameOuts finds the FrameOut of the interface behind a NIC (nil: none).
type FrameOuts func(tcpip.NICID) *netif.FrameOut

type udpFast struct {
	outs FrameOuts
	// gen moves with every change of the socket that a snapshot may not
	// outlive: options, bind, connect, shutdown (udpFastChanged).
	gen  atomic.Uint64
	snap atomic.Pointer[udpFastSnap]
	id   atomic.Uint32 // IPv4 ID of datagrams without DF
	sent atomic.Uint64 // datagrams the fast path sent (tests)
}

type udpFastSnap struct {
	gen                              uint64
	until                            int64 // MonoNow after which it is refreshed
	out                              *netif.FrameOut
	route                            gvstack.RouteInfo
	local                            tcpip.Address
	remote                           tcpip.Address
	lport                            uint16
	rport                            uint16
	ttl                              uint8
	tos                              uint8
	df                               bool
	csum                             bool // the transport checksum is ours to fill (no offload)
	recvErr                          bool // IP_RECVERR: a full device queue is ENOBUFS
	maxData                          int
	reserve                          int
	ipSent, ipErrs, udpSent, udpErrs *tcpip.StatCounter
}

// SetUDPFastPath turns the fast path on for a UDP socket (outs != nil)
// or off. Set it before use.
func (so *Socket) SetUDPFastPath(outs FrameOuts) {
	if so.Protocol != unix.IPPROTO_UDP || so.Type != unix.SOCK_DGRAM {
		return
	}
	x := so.extraOf()
	if outs == nil {
		x.udpFast.Store(nil)
		return
	}
	x.udpFast.Store(&udpFast{outs: outs})
}

// udpFastChanged drops the socket's snapshot: the next datagram goes
// gVisor's way and takes a new one.
func (so *Socket) udpFastChanged() {
	if x := so.extra.Load(); x != nil {
		if f := x.udpFast.Load(); f != nil {
			f.gen.Add(1)
		}
	}
}

func (so *Socket) udpFastOf() *udpFast {
	if x := so.extra.Load(); x != nil {
		return x.udpFast.Load()
	}
	return nil
}

// sendUDPFast sends b on the fast path; handled false: send it gVisor's way.
func (so *Socket) sendUDPFast(f *udpFast, b []byte) (n int, err error, handled bool) {
	s := f.snap.Load()
	now := MonoNow()
	if s == nil || s.gen != f.gen.Load() || now >= s.until || !s.out.Valid() {
		f.snap.Store(so.udpFastSnapshot(f, now))
		return 0, nil, false
	}
	if len(b) > s.maxData {
		return 0, nil, false // gVisor fragments or refuses
	}
	if e := so.endpoint().LastError(); e != nil {
		return 0, errnoOf(e), true // an ICMP error, as gVisor's send reports it
	}
	pkt := gvstack.NewPacketBuffer(gvstack.PacketBufferOptions{
		ReserveHeaderBytes: s.reserve,
		Payload:            buffer.MakeWithData(b),
	})
	defer pkt.DecRef()
	u := header.UDP(pkt.TransportHeader().Push(header.UDPMinimumSize))
	pkt.TransportProtocolNumber = header.UDPProtocolNumber
	length := uint16(pkt.Size())
	u.Encode(&header.UDPFields{SrcPort: s.lport, DstPort: s.rport, Length: length})
	if s.csum {
		sum := u.CalculateChecksum(checksum.Combine(
			header.PseudoHeaderChecksum(header.UDPProtocolNumber, s.local, s.remote, length),
			pkt.Data().Checksum()))
		if sum != 0xffff { // an all-zero checksum would mean none (RFC 768)
			sum = ^sum
		}
		u.SetChecksum(sum)
	}
	ip := header.IPv4(pkt.NetworkHeader().Push(header.IPv4MinimumSize))
	fields := header.IPv4Fields{TotalLength: uint16(pkt.Size()), TTL: s.ttl, TOS: s.tos,
		Protocol: uint8(header.UDPProtocolNumber), SrcAddr: s.local, DstAddr: s.remote}
	if s.df {
		fields.Flags = header.IPv4FlagDontFragment
	} else {
		fields.ID = uint16(f.id.Add(1)) // unique per flow (RFC 6864)
	}
	ip.Encode(&fields)
	ip.SetChecksum(^ip.CalculateChecksum())
	pkt.NetworkProtocolNumber = header.IPv4ProtocolNumber
	pkt.EgressRoute = s.route
	if e := s.out.Write(pkt); e != nil {
		if _, full := e.(*tcpip.ErrNoBufferSpace); full && !s.recvErr {
			// Linux: a full device queue drops the datagram silently
			// unless IP_RECVERR (gVisor's send does the same).
			s.ipErrs.Increment()
			s.udpSent.Increment()
			return len(b), nil, true
		}
		s.ipErrs.Increment()
		s.udpErrs.Increment()
		return 0, errnoOf(e), true
	}
	s.ipSent.Increment()
	s.udpSent.Increment()
	f.sent.Add(1)
	return len(b), nil, true
}

// udpFastSnapshot takes what gVisor's send would use now, or nil when the
// socket or its route is not one the fast path covers.
func (so *Socket) udpFastSnapshot(f *udpFast, now int64) *udpFastSnap {
	gen := f.gen.Load()
	if so.netProto != header.IPv4ProtocolNumber {
		return nil
	}
	so.mu.Lock()
	shut, closed := so.shutWrite, so.closed
	so.mu.Unlock()
	if shut || closed {
		return nil
	}
	remote, e1 := so.endpoint().GetRemoteAddress()
	local, e2 := so.endpoint().GetLocalAddress()
	if e1 != nil || e2 != nil || remote.Addr.Len() != 4 || local.Addr.Len() != 4 {
		return nil
	}
	if header.IsV4MulticastAddress(remote.Addr) || remote.Addr == header.IPv4Broadcast {
		return nil
	}
	opts := so.endpoint().SocketOptions()
	if opts.GetExperimentOptionValue() != 0 {
		return nil
	}
	ttl, e1 := so.endpoint().GetSockOptInt(tcpip.IPv4TTLOption)
	tos, e2 := so.endpoint().GetSockOptInt(tcpip.IPv4TOSOption)
	pmtud, e3 := so.endpoint().GetSockOptInt(tcpip.MTUDiscoverOption)
	if e1 != nil || e2 != nil || e3 != nil {
		return nil
	}
	r, err := so.stack.FindRoute(tcpip.NICID(opts.GetBindToDevice()), local.Addr, remote.Addr, header.IPv4ProtocolNumber, false)
	if err != nil {
		return nil
	}
	defer r.Release()
	if r.Loop() != gvstack.PacketOut || r.IsOutboundBroadcast() {
		return nil
	}
	var resolved gvstack.RouteInfo
	ok := false
	if r.ResolvedFields(func(res gvstack.ResolvedFieldsResult) {
		if !ok && res.Err == nil {
			resolved, ok = res.RouteInfo, true
		}
	}) != nil || !ok {
		return nil // unresolved: gVisor's send resolves it
	}
	out := f.outs(r.NICID())
	if out == nil {
		return nil
	}
	if ttl == 0 {
		ttl = int(r.DefaultTTL())
	}
	st := so.stack.Stats()
	s := &udpFastSnap{
		gen: gen, until: now + udpFastRefresh, out: out, route: resolved,
		local: local.Addr, remote: remote.Addr, lport: local.Port, rport: remote.Port,
		ttl: uint8(ttl), tos: uint8(tos),
		df:      pmtud == int(tcpip.PMTUDiscoveryWant) || pmtud == int(tcpip.PMTUDiscoveryDo) || pmtud == int(tcpip.PMTUDiscoveryProbe),
		csum:    r.RequiresTXTransportChecksum() && !opts.GetNoChecksum(),
		recvErr: opts.GetIPv4RecvError(),
		maxData: int(out.MTU()) - header.IPv4MinimumSize - header.UDPMinimumSize,
		reserve: int(out.MaxHeaderLength()) + header.IPv4MinimumSize + header.UDPMinimumSize,
		ipSent:  st.IP.PacketsSent, ipErrs: st.IP.OutgoingPacketErrors,
		udpSent: st.UDP.PacketsSent, udpErrs: st.UDP.PacketSendErrors,
	}
	return s
}
