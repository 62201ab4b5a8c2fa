package netif_test

import (
	"net/netip"
	"testing"

	"gonetif.dev/gonetif/netif"
)

func TestIP6AddrType(t *testing.T) {
	for _, tc := range []struct {
		a    string
		want netif.IP6Kind
	}{
		{"fe80::1", netif.IP6LinkLocal},
		{"febf:ffff::1", netif.IP6LinkLocal},
		{"fec0::1", netif.IP6SiteLocal},
		{"feff::1", netif.IP6SiteLocal},
		{"fc00::1", netif.IP6UniqueLocal},
		{"fdff::1", netif.IP6UniqueLocal},
		{"::ffff:10.0.0.1", netif.IP6V4Mapped},
		{"2001:db8::1", netif.IP6Global},
		{"3fff::1", netif.IP6Global},
		{"4000::1", netif.IP6Unknown},
		{"1fff::1", netif.IP6Unknown},
		{"fe7f::1", netif.IP6Unknown},
		{"ff02::1", netif.IP6Unknown},
		{"::", netif.IP6Unknown},
		{"::1", netif.IP6Unknown},
		{"::10.0.0.1", netif.IP6Unknown},
	} {
		if got := netif.IP6AddrType(netip.MustParseAddr(tc.a).As16()); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.a, got, tc.want)
		}
	}
}
