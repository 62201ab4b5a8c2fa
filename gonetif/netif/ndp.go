package netif

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// NDP takes gVisor's NDP callbacks (router advertisements, SLAAC) and
// replays them in order on a goroutine of the Manager: gVisor calls them
// with its own locks held, so they must not call back into the stack.
type NDP struct {
	ch   chan func(*Manager)
	done chan struct{}
	once sync.Once
}

var _ ipv6.NDPDispatcher = (*NDP)(nil)

// NewNDP returns a dispatcher to pass to the stack before AttachNDP.
func NewNDP() *NDP {
	return &NDP{ch: make(chan func(*Manager), 256), done: make(chan struct{})}
}

// AttachNDP starts replaying d's callbacks on m until d.Close.
func (m *Manager) AttachNDP(d *NDP) {
	go func() {
		for {
			select {
			case fn := <-d.ch:
				fn(m)
			case <-d.done:
				return
			}
		}
	}()
}

// Close stops the replay goroutine.
func (d *NDP) Close() { d.once.Do(func() { close(d.done) }) }

func (d *NDP) post(fn func(*Manager)) {
	select {
	case d.ch <- fn:
	case <-d.done:
	default: // a flood of RAs: dropping is what a busy device would do
	}
}

// OnDuplicateAddressDetectionResult implements ipv6.NDPDispatcher.
func (d *NDP) OnDuplicateAddressDetectionResult(tcpip.NICID, tcpip.Address, gvstack.DADResult) {}

// OnOffLinkRouteUpdated implements ipv6.NDPDispatcher.
func (d *NDP) OnOffLinkRouteUpdated(nic tcpip.NICID, dest tcpip.Subnet, router tcpip.Address, _ header.NDPRoutePreference) {
	d.post(func(m *Manager) { m.setIP6Route(nic, dest, router, true) })
}

// OnOffLinkRouteInvalidated implements ipv6.NDPDispatcher.
func (d *NDP) OnOffLinkRouteInvalidated(nic tcpip.NICID, dest tcpip.Subnet, router tcpip.Address) {
	d.post(func(m *Manager) { m.setIP6Route(nic, dest, router, false) })
}

// OnOnLinkPrefixDiscovered implements ipv6.NDPDispatcher.
func (d *NDP) OnOnLinkPrefixDiscovered(nic tcpip.NICID, prefix tcpip.Subnet) {
	d.post(func(m *Manager) { m.setIP6Route(nic, prefix, tcpip.Address{}, true) })
}

// OnOnLinkPrefixInvalidated implements ipv6.NDPDispatcher.
func (d *NDP) OnOnLinkPrefixInvalidated(nic tcpip.NICID, prefix tcpip.Subnet) {
	d.post(func(m *Manager) { m.setIP6Route(nic, prefix, tcpip.Address{}, false) })
}

// OnAutoGenAddress implements ipv6.NDPDispatcher: a SLAAC address.
func (d *NDP) OnAutoGenAddress(nic tcpip.NICID, addr tcpip.AddressWithPrefix) gvstack.AddressDispatcher {
	d.post(func(m *Manager) { m.gotIP6(nic, addr.Address) })
	return nil
}

// OnAutoGenAddressDeprecated implements ipv6.NDPDispatcher.
func (d *NDP) OnAutoGenAddressDeprecated(tcpip.NICID, tcpip.AddressWithPrefix) {}

// OnAutoGenAddressInvalidated implements ipv6.NDPDispatcher.
func (d *NDP) OnAutoGenAddressInvalidated(tcpip.NICID, tcpip.AddressWithPrefix) {}

// OnRecursiveDNSServerOption implements ipv6.NDPDispatcher: RDNSS fills
// an empty DNS slot (DHCP or the application keep theirs).
func (d *NDP) OnRecursiveDNSServerOption(nic tcpip.NICID, addrs []tcpip.Address, lifetime time.Duration) {
	if lifetime == 0 || len(addrs) == 0 {
		return
	}
	a, _ := netip.AddrFromSlice(addrs[0].AsSlice())
	if a.IsLinkLocalUnicast() { // only reachable through the NIC it came from
		a = a.WithZone(strconv.Itoa(int(nic)))
	}
	d.post(func(m *Manager) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if slices.Contains(m.dns[:], a) {
			return
		}
		for i := range m.dns {
			if !m.dns[i].IsValid() {
				m.dns[i] = a
				return
			}
		}
	})
}

// OnDNSSearchListOption implements ipv6.NDPDispatcher.
func (d *NDP) OnDNSSearchListOption(tcpip.NICID, []string, time.Duration) {}

// OnDHCPv6Configuration implements ipv6.NDPDispatcher.
func (d *NDP) OnDHCPv6Configuration(tcpip.NICID, ipv6.DHCPv6ConfigurationFromNDPRA) {}

type ip6Route struct {
	dest   tcpip.Subnet
	router tcpip.Address // zero: on link
}

func (m *Manager) setIP6Route(nic tcpip.NICID, dest tcpip.Subnet, router tcpip.Address, add bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.netifs {
		if n.nic != nic || nic == 0 {
			continue
		}
		r := ip6Route{dest: dest, router: router}
		n.ip6Routes = slices.DeleteFunc(n.ip6Routes, func(x ip6Route) bool { return x == r })
		if add {
			n.ip6Routes = append(n.ip6Routes, r)
		}
		m.updateRoutesLocked()
	}
}

func (m *Manager) gotIP6(nic tcpip.NICID, addr tcpip.Address) {
	n := m.ByNIC(nic)
	if n == nil {
		return
	}
	a, _ := netip.AddrFromSlice(addr.AsSlice())
	idx := slices.Index(n.IP6Addrs(), a)
	if a.IsLinkLocalUnicast() {
		m.mu.Lock()
		done := n.ll6Reported
		n.ll6Reported = true
		m.mu.Unlock()
		if done { // CreateIP6LinkLocal reported it already
			return
		}
	}
	m.emit(Event{Kind: EventGotIP6, Netif: n, IP6: a, IP6Index: max(idx, 0)})
}

// IP6Filter picks the addresses of esp_netif's IPv6 getters.
type IP6Filter int

const (
	IP6FilterAll       IP6Filter = iota // esp_netif_get_all_ip6
	IP6FilterLinkLocal                  // esp_netif_get_ip6_linklocal
	IP6FilterGlobal                     // esp_netif_get_ip6_global
)

// ZonedIP6 is an IPv6 address with the zone esp_ip6_addr_t carries.
type ZonedIP6 struct {
	Addr netip.Addr
	Zone int
}

// IP6AddrsOf returns the interface's IPv6 addresses that f picks,
// link-local first, with their zones.
func (n *Netif) IP6AddrsOf(f IP6Filter) []ZonedIP6 {
	var out []ZonedIP6
	for _, a := range n.IP6Addrs() {
		if (f == IP6FilterLinkLocal && !a.IsLinkLocalUnicast()) || (f == IP6FilterGlobal && !a.IsGlobalUnicast()) {
			continue
		}
		out = append(out, ZonedIP6{Addr: a, Zone: n.ip6Zone(a)})
	}
	return out
}

// ip6Zone is the zone IDF gives one of the interface's addresses: its
// index for a link-local address, else 0.
func (n *Netif) ip6Zone(a netip.Addr) int {
	if a.IsLinkLocalUnicast() {
		return int(n.NICID())
	}
	return 0
}

// IP6Addrs returns the interface's IPv6 addresses, link-local first.
func (n *Netif) IP6Addrs() []netip.Addr {
	nic := n.NICID()
	if nic == 0 {
		return nil
	}
	var ll, other []netip.Addr
	for _, pa := range n.m.stack.AllAddresses()[nic] {
		if pa.Protocol != ipv6.ProtocolNumber {
			continue
		}
		a, _ := netip.AddrFromSlice(pa.AddressWithPrefix.Address.AsSlice())
		if a.IsLinkLocalUnicast() {
			ll = append(ll, a)
		} else {
			other = append(other, a)
		}
	}
	return append(ll, other...)
}

// CreateIP6LinkLocal is esp_netif_create_ip6_linklocal. gVisor made the
// address when the interface came up; this reports it with got-ip6, as
// IDF does once its duplicate address detection ends.
func (n *Netif) CreateIP6LinkLocal() error {
	if !n.IsUp() {
		return newError(ErrIfNotReady, n.cfg.Key, "create ip6 linklocal", errText("interface down"))
	}
	for i, a := range n.IP6Addrs() {
		if a.IsLinkLocalUnicast() {
			n.m.mu.Lock()
			done := n.ll6Reported
			n.ll6Reported = true
			n.m.mu.Unlock()
			if !done { // reported once, whoever comes first
				n.m.emit(Event{Kind: EventGotIP6, Netif: n, IP6: a, IP6Index: i})
			}
			return nil
		}
	}
	return newError(ErrIP6AddrFailed, n.cfg.Key, "create ip6 linklocal", errText("no link-local address"))
}

// AddIP6 is esp_netif_add_ip6_address: a static IPv6 address (no prefix,
// as lwIP's); a preferred one is reported with got-ip6.
func (n *Netif) AddIP6(a netip.Addr, preferred bool) error {
	const op = "add ip6 address"
	if !a.Is6() || a.Is4In6() || a.IsUnspecified() || a.IsMulticast() {
		return newError(ErrInvalidParams, n.cfg.Key, op, errText("not a unicast IPv6 address"))
	}
	m := n.m
	m.mu.Lock()
	if n.nic == 0 {
		m.mu.Unlock()
		return newError(ErrIfNotReady, n.cfg.Key, op, nil)
	}
	pa := tcpip.ProtocolAddress{Protocol: ipv6.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom16(a.As16()), PrefixLen: 128}}
	err := m.stack.AddProtocolAddress(n.nic, pa, gvstack.AddressProperties{
		Lifetimes: gvstack.AddressLifetimes{Deprecated: !preferred}})
	m.mu.Unlock()
	if err != nil {
		return newError(ErrIP6AddrFailed, n.cfg.Key, op, tcpipError{err})
	}
	if preferred {
		m.emit(Event{Kind: EventGotIP6, Netif: n, IP6: a, IP6Index: max(slices.Index(n.IP6Addrs(), a), 0)})
	}
	return nil
}

// RemoveIP6 is esp_netif_remove_ip6_address.
func (n *Netif) RemoveIP6(a netip.Addr) error {
	nic := n.NICID()
	if nic == 0 {
		return newError(ErrIfNotReady, n.cfg.Key, "remove ip6 address", nil)
	}
	if err := n.m.stack.RemoveAddress(nic, tcpip.AddrFrom16(a.As16())); err != nil {
		return newError(ErrIP6AddrFailed, n.cfg.Key, "remove ip6 address", tcpipError{err})
	}
	return nil
}

// JoinIP6Group joins (or leaves) an IPv6 multicast group (MLD).
func (n *Netif) JoinIP6Group(group netip.Addr, join bool) error {
	const op = "ip6 multicast group"
	nic := n.NICID()
	if nic == 0 {
		return newError(ErrIfNotReady, n.cfg.Key, op, nil)
	}
	if !group.Is6() || !group.IsMulticast() {
		return newError(ErrInvalidParams, n.cfg.Key, op, errText("not an IPv6 multicast address"))
	}
	g := tcpip.AddrFrom16(group.As16())
	var err tcpip.Error
	if join {
		err = n.m.stack.JoinGroup(ipv6.ProtocolNumber, nic, g)
	} else {
		err = n.m.stack.LeaveGroup(ipv6.ProtocolNumber, nic, g)
	}
	if err != nil {
		return newError(ErrMLD6Failed, n.cfg.Key, op, tcpipError{err})
	}
	return nil
}

// NeighborIP4 returns the IPv4 address the ARP table holds for mac.
func (n *Netif) NeighborIP4(mac net.HardwareAddr) (netip.Addr, bool) {
	nic := n.NICID()
	if nic == 0 {
		return netip.Addr{}, false
	}
	entries, err := n.m.stack.Neighbors(nic, ipv4.ProtocolNumber)
	if err != nil {
		return netip.Addr{}, false
	}
	for _, e := range entries {
		if string(e.LinkAddr) == string(mac) {
			a, ok := netip.AddrFromSlice(e.Addr.AsSlice())
			return a, ok
		}
	}
	return netip.Addr{}, false
}
