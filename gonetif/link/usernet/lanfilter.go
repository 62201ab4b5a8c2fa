package usernet

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// lanFilter sits under the gateway when it shares a LAN with several
// devices. The gateway's NIC is promiscuous and spoofing, so on its own it
// would answer ARP for every address and take (and reset) traffic meant
// for the other devices: on a LAN it must see only what a router would.
type lanFilter struct {
	nested.Endpoint
	net       netip.Prefix
	own       [2]netip.Addr // gateway, DNS
	broadcast netip.Addr    // the network's directed broadcast
}

func newLANFilter(lower stack.LinkEndpoint, o Options) *lanFilter {
	f := &lanFilter{net: o.Net, own: [2]netip.Addr{o.Gateway, o.DNS}, broadcast: lastHost(o.Net).Next()}
	f.Endpoint.Init(lower, f)
	return f
}

func (f *lanFilter) mine(a netip.Addr) bool { return a == f.own[0] || a == f.own[1] }

// DeliverNetworkPacket passes on frames for the gateway: to its MAC or
// broadcast/multicast; ARP requests only for its own addresses; IPv4 to
// the network only for its own addresses or broadcast.
func (f *lanFilter) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	if f.wanted(proto, pkt) {
		f.Endpoint.DeliverNetworkPacket(proto, pkt)
	}
}

func (f *lanFilter) wanted(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) bool {
	if pkt.PktType == tcpip.PacketOtherHost {
		return false // flooded while the switch learns the real owner
	}
	switch proto {
	case header.ARPProtocolNumber:
		b, ok := pkt.Data().PullUp(header.ARPSize)
		if !ok {
			return true // the ARP layer counts it as malformed
		}
		h := header.ARP(b)
		if h.Op() != header.ARPRequest {
			return true
		}
		target, _ := netip.AddrFromSlice(h.ProtocolAddressTarget())
		return f.mine(target)
	case header.IPv4ProtocolNumber:
		b, ok := pkt.Data().PullUp(header.IPv4MinimumSize)
		if !ok {
			return true
		}
		dst, _ := netip.AddrFromSlice(header.IPv4(b).DestinationAddressSlice())
		return !f.net.Contains(dst) || f.mine(dst) || dst == f.broadcast || dst == f.net.Addr()
	}
	return true
}
