package netif_test

// The esp_netif rules that once lived in capi and the C glue: DHCP option
// bytes and roles, which events esp_event is told of, the IPv6 getters.

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gonetif.dev/gonetif/netif"
)

// esp_netif_dhcpc_option's byte rules: each option round-trips in IDF's
// layout, short buffers, wrong lengths, over-long claims and unknown ids
// are ErrInvalidParams, and a string ends at its NUL.
func TestDHCPOptionBytes(t *testing.T) {
	m := newManager(t)
	n, err := m.New(netif.Config{Key: "DHCP", Flags: netif.FlagDHCPClient})
	if err != nil {
		t.Fatal(err)
	}
	secs := binary.NativeEndian.AppendUint32(nil, 7)
	if err := n.DHCPOptionSet(netif.DHCPOptRetryTime, secs, 4); err != nil {
		t.Fatal(err)
	}
	if err := n.DHCPOptionSet(netif.DHCPOptRequestedIP, []byte{10, 0, 0, 9}, 4); err != nil {
		t.Fatal(err)
	}
	if err := n.DHCPOptionSet(netif.DHCPOptVendorClass, []byte("esp\x00junk"), 8); err != nil {
		t.Fatal(err)
	}
	o := n.DHCPOptions()
	if o.RetryTime != 7*time.Second || o.Requested != netip.MustParseAddr("10.0.0.9") || o.VendorClass != "esp" {
		t.Fatalf("options %+v", o)
	}
	buf := make([]byte, 8)
	if err := n.DHCPOptionGet(netif.DHCPOptRetryTime, buf[:4]); err != nil || binary.NativeEndian.Uint32(buf) != 7 {
		t.Fatalf("retry time: %v % x", err, buf)
	}
	if err := n.DHCPOptionGet(netif.DHCPOptRequestedIP, buf[:4]); err != nil || !bytes.Equal(buf[:4], []byte{10, 0, 0, 9}) {
		t.Fatalf("requested IP: %v % x", err, buf)
	}
	if err := n.DHCPOptionGet(netif.DHCPOptVendorClass, buf[:4]); err != nil || string(buf[:4]) != "esp\x00" {
		t.Fatalf("vendor class: %v %q", err, buf)
	}
	long := []byte(strings.Repeat("v", netif.MaxDHCPOptionLen+1))
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"get retry time in 2 bytes", n.DHCPOptionGet(netif.DHCPOptRetryTime, buf[:2])},
		{"get requested IP in 3 bytes", n.DHCPOptionGet(netif.DHCPOptRequestedIP, buf[:3])},
		{"get vendor class without room for its NUL", n.DHCPOptionGet(netif.DHCPOptVendorClass, buf[:3])},
		{"get unknown id", n.DHCPOptionGet(250, buf)},
		{"set retry time of 3 bytes", n.DHCPOptionSet(netif.DHCPOptRetryTime, secs[:3], 3)},
		{"set requested IP of 8 bytes", n.DHCPOptionSet(netif.DHCPOptRequestedIP, buf, 8)},
		{"set vendor class claimed 2^31 bytes", n.DHCPOptionSet(netif.DHCPOptVendorClass, long, 1<<31)},
		{"set vendor class of 256 bytes", n.DHCPOptionSet(netif.DHCPOptVendorClass, long, uint32(len(long)))},
		{"set unknown id", n.DHCPOptionSet(250, buf[:1], 1)},
	} {
		if code(tc.err) != netif.ErrInvalidParams {
			t.Errorf("%s: %v, want ErrInvalidParams", tc.name, tc.err)
		}
	}
	if got := n.DHCPOptions(); got != o {
		t.Fatalf("a refused set changed the options: %+v, was %+v", got, o)
	}
}

// The DHCP role rules of esp_netif's status calls: a client's status
// is refused on a server or PPP interface and the other way round; the
// server calls say there is no server.
func TestDHCPRoles(t *testing.T) {
	m := newManager(t)
	client, err := m.New(netif.Config{Key: "CLI", Flags: netif.FlagDHCPClient})
	if err != nil {
		t.Fatal(err)
	}
	server, err := m.New(netif.Config{Key: "SRV", Flags: netif.FlagDHCPServer})
	if err != nil {
		t.Fatal(err)
	}
	ppp, err := m.New(netif.Config{Key: "PPP", Flags: netif.FlagIsPPP})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := client.DHCPClientStatus(); err != nil || st != netif.DHCPInit {
		t.Errorf("client's client status: %v %v, want DHCPInit", st, err)
	}
	for _, n := range []*netif.Netif{server, ppp} {
		if _, err := n.DHCPClientStatus(); code(err) != netif.ErrInvalidArg {
			t.Errorf("%s client status: %v, want ErrInvalidArg", n.Key(), err)
		}
	}
	if st, err := server.DHCPServerStatus(); err != nil || st != netif.DHCPStopped {
		t.Errorf("server status: %v %v, want DHCPStopped", st, err)
	}
	for _, n := range []*netif.Netif{client, ppp} {
		if _, err := n.DHCPServerStatus(); code(err) != netif.ErrInvalidArg {
			t.Errorf("%s server status: %v, want ErrInvalidArg", n.Key(), err)
		}
	}
	if err := server.DHCPServerStart(); code(err) != netif.ErrNotSupported {
		t.Errorf("server start: %v, want ErrNotSupported", err)
	}
	if err := server.DHCPServerStop(); code(err) != netif.ErrDHCPAlreadyStopped {
		t.Errorf("server stop: %v, want ErrDHCPAlreadyStopped", err)
	}
	if err := server.DHCPServerOption(); code(err) != netif.ErrNotSupported {
		t.Errorf("server option: %v, want ErrNotSupported", err)
	}
}

// What esp_event is told: a lost-IP event only with an id of its own;
// a got-ip6 event's link-local address carries the interface's index.
func TestEventPostedAndZone(t *testing.T) {
	m := newManager(t)
	silent := startStatic(t, m, "SILENT", 10, "10.0.0.2", "10.0.0.1")
	loud, err := m.New(netif.Config{Key: "LOUD", LostIPEvent: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		e    netif.Event
		want bool
	}{
		{netif.Event{Kind: netif.EventLostIP, Netif: silent}, false},
		{netif.Event{Kind: netif.EventLostIP, Netif: loud}, true},
		{netif.Event{Kind: netif.EventGotIP, Netif: silent}, true},
		{netif.Event{Kind: netif.EventNetifUp, Netif: silent}, true},
	} {
		if got := tc.e.Posted(); got != tc.want {
			t.Errorf("%s on %s: Posted %v, want %v", tc.e.Kind, tc.e.Netif.Key(), got, tc.want)
		}
	}
	ll := netif.Event{Kind: netif.EventGotIP6, Netif: silent, IP6: netip.MustParseAddr("fe80::1")}
	if z := ll.IP6Zone(); z == 0 || z != int(silent.NICID()) {
		t.Errorf("link-local zone %d, want the NIC %d", z, silent.NICID())
	}
	global := netif.Event{Kind: netif.EventGotIP6, Netif: silent, IP6: netip.MustParseAddr("2001:db8::1")}
	if z := global.IP6Zone(); z != 0 {
		t.Errorf("global zone %d, want 0", z)
	}
}

// IP6AddrsOf: the getters' selections, link-local first, link-local
// addresses zoned by the interface's index, the others not.
func TestIP6AddrsOf(t *testing.T) {
	m := newManager(t)
	n := startStatic(t, m, "V6", 10, "10.0.0.2", "10.0.0.1")
	global := netip.MustParseAddr("2001:db8::7")
	if err := n.AddIP6(global, true); err != nil {
		t.Fatal(err)
	}
	all := n.IP6AddrsOf(netif.IP6FilterAll)
	if len(all) < 2 || !all[0].Addr.IsLinkLocalUnicast() || all[0].Zone != int(n.NICID()) {
		t.Fatalf("all: %v, want the link-local address first, zoned %d", all, n.NICID())
	}
	ll := n.IP6AddrsOf(netif.IP6FilterLinkLocal)
	if len(ll) != 1 || ll[0] != all[0] {
		t.Fatalf("link-local: %v, want %v", ll, all[0])
	}
	gl := n.IP6AddrsOf(netif.IP6FilterGlobal)
	if len(gl) != 1 || gl[0] != (netif.ZonedIP6{Addr: global}) {
		t.Fatalf("global: %v, want %v with no zone", gl, global)
	}
}
