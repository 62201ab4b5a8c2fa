package netif_test

import (
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// Two interfaces with gateways: the default follows route_prio and
// SetDefault, and a route through each NIC exists for bound sockets.
func TestRoutesPerInterface(t *testing.T) {
	m := newManager(t)
	a := startStatic(t, m, "A", 50, "192.168.5.100", "192.168.5.1")
	b := startStatic(t, m, "B", 100, "192.168.6.100", "192.168.6.1")
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
