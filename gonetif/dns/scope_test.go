package dns_test

import (
	"net/netip"
	"testing"

	"gonetif.dev/gonetif/dns"
)

// TestScopeID: a decimal zone is the scope id; no zone, a name or a
// number past 32 bits is 0.
func TestScopeID(t *testing.T) {
	for zone, want := range map[string]uint32{"": 0, "3": 3, "4294967295": 4294967295, "4294967296": 0, "eth0": 0, "+1": 0} {
		a := netip.MustParseAddr("fe80::1")
		if zone != "" {
			a = a.WithZone(zone)
		}
		ai := dns.AddrInfo{Family: dns.AFInet6, Addr: netip.AddrPortFrom(a, 80)}
		if got := ai.ScopeID(); got != want {
			t.Errorf("zone %q: %d, want %d", zone, got, want)
		}
	}
}
