package stack_test

import (
	"net/netip"
	"testing"

	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

// cableStacks makes a client and a server stack, each with one interface
// on its end of an in-memory cable (clientLink may wrap the cable's end in
// a filter), addressed clientIP and serverIP in a /24; the test's cleanup
// closes both stacks and then closeCable.
func cableStacks(t *testing.T, copts, sopts stack.Options, clientLink, serverLink gvstack.LinkEndpoint,
	clientIP, serverIP netip.Addr, closeCable func()) (client, server *gonetif.Stack) {
	t.Helper()
	client, err := gonetif.New(copts)
	if err != nil {
		t.Fatal(err)
	}
	server, err = gonetif.New(sopts)
	if err != nil {
		client.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
		closeCable()
	})
	mask := netip.MustParseAddr("255.255.255.0")
	for _, side := range []struct {
		s    *gonetif.Stack
		key  string
		ip   netip.Addr
		link gvstack.LinkEndpoint
	}{{client, "C", clientIP, clientLink}, {server, "S", serverIP, serverLink}} {
		if _, err := side.s.AddInterface(netif.Config{Key: side.key, Desc: side.key, Flags: netif.FlagAutoUp, RoutePrio: 100,
			IPInfo: netif.IPInfo{IP: side.ip, Netmask: mask}}, side.link); err != nil {
			t.Fatal(err)
		}
	}
	return client, server
}
