package netif

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// FrameOut writes finished IP packets out of one interface the way the
// NIC does (link header, queueing discipline, the NIC's transmit
// counters), below gVisor's network layer: the UDP fast path's exit
// (GONETIF_UDP_FASTPATH, socket/udpfast.go; docs/DESIGN.md D21). The
// captures and loss layers are part of the link, so they see every frame
// written here.
type FrameOut struct {
	m     *Manager
	gen   uint64 // m.gen when made: Valid
	nic   tcpip.NICID
	link  gvstack.LinkEndpoint
	qdisc gvstack.QueueingDiscipline
	mtu   uint32
	stats tcpip.NICStats
}

// gen counts the changes a FrameOut (and what its user cached with it)
// may not outlive: interfaces started, stopped, up or down, addresses,
// routes, MAC and MTU.
func (m *Manager) changed() { m.gen.Add(1) }

// FrameOut returns the writer of the interface behind a NIC, or nil when
// the NIC is not an interface of m that is up.
func (m *Manager) FrameOut(id tcpip.NICID) *FrameOut {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.netifs {
		if n.nic != id || id == 0 || n.state != StateUp || n.qdisc == nil {
			continue
		}
		info, ok := m.stack.NICInfo()[id]
		if !ok {
			return nil
		}
		return &FrameOut{m: m, gen: m.gen.Load(), nic: id, link: n.link, qdisc: n.qdisc,
			mtu: n.link.MTU(), stats: info.Stats}
	}
	return nil
}

// Valid tells whether nothing changed since f was made.
func (f *FrameOut) Valid() bool { return f.m.gen.Load() == f.gen }

// NIC is the interface's gVisor NIC id.
func (f *FrameOut) NIC() tcpip.NICID { return f.nic }

// MTU is the link's MTU when f was made.
func (f *FrameOut) MTU() uint32 { return f.mtu }

// Write sends pkt, whose network header is complete and whose EgressRoute
// is set, as the NIC's own write does.
func (f *FrameOut) Write(pkt *gvstack.PacketBuffer) tcpip.Error {
	f.link.AddHeader(pkt)
	pkt.PktType = tcpip.PacketOutgoing
	if err := f.qdisc.WritePacket(pkt); err != nil {
		if _, ok := err.(*tcpip.ErrNoBufferSpace); ok {
			f.stats.TxPacketsDroppedNoBufferSpace.Increment()
		}
		return err
	}
	f.stats.Tx.Packets.Increment()
	f.stats.Tx.Bytes.IncrementBy(uint64(pkt.Size()))
	return nil
}

// MaxHeaderLength is the room the link needs in front of the IP header.
func (f *FrameOut) MaxHeaderLength() uint16 { return f.link.MaxHeaderLength() }
