package netif_test

import (
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif/netif"
)

func TestNamesAndIndexes(t *testing.T) {
	m := newManager(t)
	eth := startStatic(t, m, "ETH_DEF", 10, "10.9.0.2", "10.9.0.1")
	tap, err := m.New(netif.Config{Key: "TAP", NamePrefix: "tp"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tap.Name(); code(err) != netif.ErrIfNotReady {
		t.Fatalf("name before start: %v", err)
	}
	if _, err := m.IndexByName("TAP"); code(err) != netif.ErrNotFound {
		t.Fatalf("key of an interface not started: %v", err)
	}
	if err := tap.Attach(newLink(t).A); err != nil {
		t.Fatal(err)
	}
	if err := tap.Start(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*netif.Netif{eth, tap} {
		name, err := n.Name()
		want := map[string]string{"ETH_DEF": "en", "TAP": "tp"}[n.Key()] + strconv.Itoa(int(n.NICID())-1)
		if err != nil || name != want {
			t.Fatalf("%s: Name() = %q, %v; want %q", n.Key(), name, err, want)
		}
		for _, alias := range []string{name, n.Key()} {
			if idx, err := m.IndexByName(alias); err != nil || idx != n.NICID() {
				t.Fatalf("IndexByName(%q) = %d, %v; want %d", alias, idx, err, n.NICID())
			}
		}
		if got, err := m.NameByIndex(n.NICID()); err != nil || got != name {
			t.Fatalf("NameByIndex(%d) = %q, %v", n.NICID(), got, err)
		}
	}
	for _, bad := range []string{"", "nosuch0", "TAPTAPTAPTAPTAPTAP", "tp"} {
		if _, err := m.IndexByName(bad); code(err) != netif.ErrNotFound {
			t.Fatalf("IndexByName(%q): %v", bad, err)
		}
	}
	for _, bad := range []tcpip.NICID{0, 999} {
		if _, err := m.NameByIndex(bad); code(err) != netif.ErrNotFound {
			t.Fatalf("NameByIndex(%d): %v", bad, err)
		}
	}
	if _, err := m.New(netif.Config{Key: "X", NamePrefix: "abc"}); code(err) != netif.ErrInvalidParams {
		t.Fatalf("three-letter prefix: %v", err)
	}
	idx := tap.NICID()
	m.Destroy(tap)
	if _, err := m.NameByIndex(idx); code(err) != netif.ErrNotFound {
		t.Fatalf("name of a destroyed interface: %v", err)
	}
	if _, err := m.IndexByName("TAP"); code(err) != netif.ErrNotFound {
		t.Fatalf("key of a destroyed interface: %v", err)
	}
}

// Lookups racing create/destroy see an interface whole or not at all (run
// with -race to check the locking).
func TestNameLookupsRaceDestroy(t *testing.T) {
	m := newManager(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	found := 0
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if idx, err := m.IndexByName("RACE"); err == nil {
					if name, err := m.NameByIndex(idx); err == nil && name == "" {
						t.Error("a found interface without a name")
					}
					mu.Lock()
					found++
					mu.Unlock()
				}
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; i < 200 && time.Now().Before(deadline); i++ {
		n, err := m.New(netif.Config{Key: "RACE"})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Attach(newLink(t).A); err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Microsecond)
		m.Destroy(n)
	}
	close(stop)
	wg.Wait()
	if found == 0 {
		t.Fatal("the lookups never met a live interface")
	}
	t.Logf("%d lookups found the interface", found)
}

// TestDNSSlotsRefuseBadInput: esp_netif_set_dns_info's rules, which the C
// side no longer checks: a bad slot or an unspecified address is
// INVALID_PARAMS and leaves the slot as it was; a zero Addr clears it.
func TestDNSSlotsRefuseBadInput(t *testing.T) {
	m := newManager(t)
	good := netip.MustParseAddr("10.9.0.53")
	if err := m.SetDNS(netif.DNSMain, good); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		slot int
		a    netip.Addr
	}{{netif.DNSMain, netip.IPv4Unspecified()}, {netif.DNSMain, netip.IPv6Unspecified()}, {-1, good}, {netif.DNSMax, good}} {
		if err := m.SetDNS(tc.slot, tc.a); code(err) != netif.ErrInvalidParams {
			t.Errorf("SetDNS(%d, %v) = %v, want invalid params", tc.slot, tc.a, err)
		}
	}
	if got := m.DNS(netif.DNSMain); got != good {
		t.Fatalf("slot after refused sets: %v, want %v", got, good)
	}
	if err := m.SetDNS(netif.DNSMain, netip.Addr{}); err != nil || m.DNS(netif.DNSMain).IsValid() {
		t.Fatalf("clear: %v, slot %v", err, m.DNS(netif.DNSMain))
	}
}

// TestSetMTURange: esp_netif_set_mtu's bounds live in Go only.
func TestSetMTURange(t *testing.T) {
	m := newManager(t)
	n := startStatic(t, m, "ETH_DEF", 10, "10.9.0.2", "10.9.0.1")
	for _, mtu := range []uint32{0, 19, 9001} {
		if err := n.SetMTU(mtu); code(err) != netif.ErrInvalidParams {
			t.Errorf("SetMTU(%d) = %v, want invalid params", mtu, err)
		}
	}
	if err := n.SetMTU(20); err != nil {
		t.Errorf("SetMTU(20): %v", err)
	}
}
