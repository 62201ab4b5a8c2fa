package netif_test

import (
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/gonetif/gonetif/gonetif/link/pair"
	"github.com/gonetif/gonetif/gonetif/netif"
)

// Two interfaces with gateways: the default follows route_prio and
// SetDefault, and a route through each NIC exists for bound sockets.
func TestRoutesPerInterface(t *testing.T) {
	m := newManager(t)
	mk := func(key string, link *pair.Pair, ip, gw string, prio int) *netif.Netif {
		n, err := m.New(netif.Config{Key: key, Flags: netif.FlagAutoUp, RoutePrio: prio, IPInfo: netif.IPInfo{
			IP: netip.MustParseAddr(ip), Netmask: netip.MustParseAddr("255.255.255.0"), Gateway: netip.MustParseAddr(gw)}})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Attach(link.A); err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a := mk("A", newLink(t), "192.168.5.100", "192.168.5.1", 50)
	b := mk("B", newLink(t), "192.168.6.100", "192.168.6.1", 100)
	dst := tcpip.AddrFrom4([4]byte{10, 9, 9, 9})
	route := func(nic tcpip.NICID) (tcpip.NICID, tcpip.Address) {
		r, err := m.Stack().FindRoute(nic, tcpip.Address{}, dst, ipv4.ProtocolNumber, false)
		if err != nil {
			t.Fatalf("no route via NIC %d: %v (table %v)", nic, err, m.Stack().GetRouteTable())
		}
		defer r.Release()
		return r.NICID(), r.LocalAddress()
	}
	if nic, _ := route(0); nic != b.NICID() || m.Default() != b {
		t.Fatalf("default via %d, want B", nic)
	}
	if nic, src := route(a.NICID()); nic != a.NICID() || src != tcpip.AddrFrom4([4]byte{192, 168, 5, 100}) {
		t.Fatalf("bound to A: via %d from %v", nic, src)
	}
	m.SetDefault(a)
	if nic, _ := route(0); nic != a.NICID() {
		t.Fatalf("forced default via %d, want A", nic)
	}
	if nic, _ := route(b.NICID()); nic != b.NICID() {
		t.Fatalf("bound to B via %d", nic)
	}
}
