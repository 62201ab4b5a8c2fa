// Package testnet builds two gonetif stacks joined by an in-memory cable,
// for tests that need no privileges.
package testnet

import (
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/config"
	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

// Addresses of the two ends.
var (
	AddrA = netip.MustParseAddr("10.7.0.1")
	AddrB = netip.MustParseAddr("10.7.0.2")
	Mask  = netip.MustParseAddr("255.255.255.0")
)

// inlineAll: GONETIF_TCP_INLINE=1 in the environment builds every test
// network with inline TCP processing (stack.Options.TCPInline), so a
// package's tests run both ways.
var inlineAll = func() bool {
	v, err := config.Environ()
	return err == nil && v.Bool(config.TCPInline)
}()

// Net is two stacks, A and B, on one link.
type Net struct {
	A, B           *gonetif.Stack
	NetifA, NetifB *netif.Netif
	Pair           *pair.Pair
}

// New builds the network and registers its teardown with t.
func New(t testing.TB) *Net {
	t.Helper()
	return NewLayered(t, nil)
}

// NewLayered is New with B's end of the cable under a layer of the
// caller's (a delay, a loss): wrapB takes the end, returns what B uses.
func NewLayered(t testing.TB, wrapB func(gvstack.LinkEndpoint) (gvstack.LinkEndpoint, error)) *Net {
	t.Helper()
	p := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x00\x02"), 0)
	n := &Net{Pair: p}
	var linkB gvstack.LinkEndpoint = p.B
	if wrapB != nil {
		var err error
		if linkB, err = wrapB(p.B); err != nil {
			p.Close()
			t.Fatal(err)
		}
	}
	n.A, n.NetifA = up(t, "A", p.A, AddrA)
	n.B, n.NetifB = up(t, "B", linkB, AddrB)
	t.Cleanup(func() {
		n.A.Close()
		n.B.Close()
		p.Close()
	})
	return n
}

func up(t testing.TB, key string, link gvstack.LinkEndpoint, addr netip.Addr) (*gonetif.Stack, *netif.Netif) {
	t.Helper()
	s, err := gonetif.New(stack.Options{TCPInline: inlineAll})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.AddInterface(netif.Config{
		Key: key, Desc: key, Flags: netif.FlagAutoUp, RoutePrio: 100,
		IPInfo: netif.IPInfo{IP: addr, Netmask: Mask},
	}, link)
	if err != nil {
		t.Fatal(err)
	}
	return s, n
}
