package netif

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// LoopbackNIC is the gVisor NIC id of the loopback interface. It lies far
// above the ids interfaces get (1, 2, …), so adding the loopback moves
// no interface's index.
const LoopbackNIC tcpip.NICID = 1 << 24

// loopbackAddrs are the loopback NIC's addresses, as on Linux and in lwIP
// with LWIP_NETIF_LOOPBACK; their subnets, 127.0.0.0/8 and ::1/128, are
// the destinations it serves.
var loopbackAddrs = []tcpip.ProtocolAddress{
	{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), PrefixLen: 8}},
	{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: header.IPv6Loopback, PrefixLen: 128}},
}

// AddLoopback gives the stack a loopback interface with 127.0.0.1/8 and
// ::1/128, as lwIP's LWIP_NETIF_LOOPBACK does (IDF builds lwIP with it,
// and esp_http_server's control socket needs 127.0.0.1). It is no
// Netif: not in List, never the default interface, and its routes serve
// only loopback destinations. Calling it again does nothing.
func (m *Manager) AddLoopback() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loopback {
		return nil
	}
	// Unnamed: every interface key stays free for the application.
	if err := m.stack.CreateNICWithOptions(LoopbackNIC, loopback.New(), gvstack.NICOptions{}); err != nil {
		return newError(ErrInitFailed, "loopback", "start", tcpipError{err})
	}
	for _, a := range loopbackAddrs {
		if err := m.stack.AddProtocolAddress(LoopbackNIC, a, gvstack.AddressProperties{}); err != nil {
			_ = m.stack.RemoveNIC(LoopbackNIC)
			return newError(ErrInitFailed, "loopback", "add address", tcpipError{err})
		}
	}
	m.loopback = true
	m.updateRoutesLocked()
	return nil
}

// HasLoopback reports whether AddLoopback has run.
func (m *Manager) HasLoopback() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.loopback
}

// loopbackRoutesLocked are the loopback NIC's routes, first in the table:
// they match only loopback destinations, so they never take other
// traffic from a real interface.
func (m *Manager) loopbackRoutesLocked() []tcpip.Route {
	if !m.loopback {
		return nil
	}
	routes := make([]tcpip.Route, 0, len(loopbackAddrs))
	for _, a := range loopbackAddrs {
		routes = append(routes, tcpip.Route{Destination: a.AddressWithPrefix.Subnet(), NIC: LoopbackNIC})
	}
	return routes
}
