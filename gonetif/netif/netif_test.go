package netif_test

import (
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

func newManager(t *testing.T) *netif.Manager {
	t.Helper()
	gv, err := stack.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gv.Close)
	return netif.NewManager(gv)
}

func newLink(t *testing.T) *pair.Pair {
	p := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x00\x02"), 0)
	t.Cleanup(p.Close)
	return p
}

// startStatic starts an auto-up interface with a /24 static address on a
// fresh in-memory link.
func startStatic(t *testing.T, m *netif.Manager, key string, prio int, ip, gw string) *netif.Netif {
	t.Helper()
	n, err := m.New(netif.Config{Key: key, Flags: netif.FlagAutoUp, RoutePrio: prio, IPInfo: netif.IPInfo{
		IP: netip.MustParseAddr(ip), Netmask: netip.MustParseAddr("255.255.255.0"), Gateway: netip.MustParseAddr(gw)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Attach(newLink(t).A); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	return n
}

func code(err error) netif.Code {
	var e *netif.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func TestNewRejectsBadConfig(t *testing.T) {
	m := newManager(t)
	if _, err := m.New(netif.Config{}); code(err) != netif.ErrInvalidParams {
		t.Fatalf("empty key: %v", err)
	}
	if _, err := m.New(netif.Config{Key: "X", Flags: netif.FlagDHCPClient | netif.FlagDHCPServer}); code(err) != netif.ErrInvalidParams {
		t.Fatalf("client+server: %v", err)
	}
	if _, err := m.New(netif.Config{Key: "X", MAC: []byte{1, 2}}); code(err) != netif.ErrInvalidParams {
		t.Fatalf("short MAC: %v", err)
	}
	if _, err := m.New(netif.Config{Key: "X"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.New(netif.Config{Key: "X"}); code(err) != netif.ErrInvalidParams {
		t.Fatalf("duplicate key: %v", err)
	}
	n := m.ByKey("X")
	if err := n.Start(); code(err) != netif.ErrIfNotReady {
		t.Fatalf("start without driver: %v", err)
	}
	if err := n.Attach(nil); code(err) != netif.ErrInvalidParams {
		t.Fatalf("attach nil: %v", err)
	}
}

func TestLifecycleAndEvents(t *testing.T) {
	m := newManager(t)
	var mu sync.Mutex
	var kinds []netif.EventKind
	m.OnEvent(func(e netif.Event) {
		mu.Lock()
		kinds = append(kinds, e.Kind)
		mu.Unlock()
	})
	info := netif.IPInfo{
		IP:      netip.MustParseAddr("192.168.5.100"),
		Netmask: netip.MustParseAddr("255.255.255.0"),
		Gateway: netip.MustParseAddr("192.168.5.1"),
	}
	n, err := m.New(netif.Config{Key: "TAP", Flags: netif.FlagAutoUp | netif.FlagEventIPModified, IPInfo: info, GotIPEvent: 0x1234})
	if err != nil {
		t.Fatal(err)
	}
	p := newLink(t)
	if err := n.Attach(p.A); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	if !n.IsUp() || n.NICID() == 0 {
		t.Fatalf("after start with AUTOUP: up=%v nic=%d", n.IsUp(), n.NICID())
	}
	if got := n.IPInfo(); got != info {
		t.Fatalf("ip info %+v", got)
	}
	addr, gerr := m.Stack().GetMainNICAddress(n.NICID(), 0x0800)
	if gerr != nil || addr.Address != tcpip.AddrFrom4(info.IP.As4()) || addr.PrefixLen != 24 {
		t.Fatalf("stack address %v %v", addr, gerr)
	}
	info2 := info
	info2.IP = netip.MustParseAddr("192.168.5.101")
	if err := n.SetIPInfo(info2); err != nil {
		t.Fatal(err)
	}
	if err := n.Disconnected(); err != nil {
		t.Fatal(err)
	}
	if n.IsUp() {
		t.Fatal("still up after disconnected")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []netif.EventKind{netif.EventNetifUp, netif.EventGotIP, netif.EventNetifDown}
	if len(kinds) != len(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events %v, want %v", kinds, want)
		}
	}
}

func TestDefaultFollowsRoutePrio(t *testing.T) {
	m := newManager(t)
	low := startStatic(t, m, "low", 10, "10.1.0.2", "10.1.0.1")
	high := startStatic(t, m, "high", 100, "10.2.0.2", "10.2.0.1")
	if m.Default() != high {
		t.Fatal("default is not the highest priority interface")
	}
	firstDefault := func() tcpip.NICID {
		for _, r := range m.Stack().GetRouteTable() {
			if r.Destination.Prefix() == 0 && r.Destination.ID().To4() == tcpip.AddrFrom4([4]byte{}) {
				return r.NIC
			}
		}
		return 0
	}
	if firstDefault() != high.NICID() {
		t.Fatalf("first default route on NIC %d, want %d", firstDefault(), high.NICID())
	}
	m.SetDefault(low)
	if m.Default() != low || firstDefault() != low.NICID() {
		t.Fatal("forced default not applied")
	}
	m.SetDefault(nil)
	low.SetRoutePrio(200)
	if m.Default() != low || firstDefault() != low.NICID() {
		t.Fatal("route prio change not applied")
	}
	m.Destroy(low)
	if m.Default() != high || firstDefault() != high.NICID() {
		t.Fatal("default not handed back after destroy")
	}
}

// A DHCP option carries at most 255 bytes: a longer vendor class is
// refused, not truncated on the wire.
func TestVendorClassFitsAnOption(t *testing.T) {
	m := newManager(t)
	n, err := m.New(netif.Config{Key: "DHCP", Flags: netif.FlagDHCPClient})
	if err != nil {
		t.Fatal(err)
	}
	o := n.DHCPOptions()
	o.VendorClass = strings.Repeat("v", netif.MaxDHCPOptionLen+1)
	var ne *netif.Error
	if err := n.SetDHCPOptions(o); !errors.As(err, &ne) || ne.Code != netif.ErrInvalidParams {
		t.Fatalf("256-byte vendor class: %v, want ErrInvalidParams", err)
	}
	o.VendorClass = strings.Repeat("v", netif.MaxDHCPOptionLen)
	if err := n.SetDHCPOptions(o); err != nil {
		t.Fatalf("255-byte vendor class: %v", err)
	}
}
