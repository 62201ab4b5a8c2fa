package dns_test

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/dns"
	"gonetif.dev/gonetif/internal/dnstest"
	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/stack"
)

func sp(s string) *string { return &s }

// Names go to the stack's DNS servers: here a fake one on the other end of
// an in-memory link, which knows server.test (an A record only).
func TestGetAddrInfoNamesThroughDNS(t *testing.T) {
	n := testnet.New(t)
	pc, err := n.B.ListenPacket("udp4", ":53")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go dnstest.Serve(pc, func(name string) (netip.Addr, bool) {
		return testnet.AddrB, name == "server.test"
	})
	if err := n.A.Netifs.SetDNS(0, testnet.AddrB); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := n.A.Resolver

	ais, err := r.GetAddrInfo(ctx, sp("server.test"), sp("http"), &dns.Hints{Flags: dns.AICanonName})
	if err != nil || len(ais) != 1 {
		t.Fatalf("server.test http: %v, %v", ais, err)
	}
	want := dns.AddrInfo{Family: dns.AFInet, SockType: dns.SockStream, Protocol: dns.ProtoTCP,
		Addr: netip.AddrPortFrom(testnet.AddrB, 80), CanonName: "server.test"}
	if ais[0] != want {
		t.Fatalf("server.test http: %+v, want %+v", ais[0], want)
	}

	ais, err = r.GetAddrInfo(ctx, sp("server.test"), sp("53"), &dns.Hints{Family: dns.AFInet6, Flags: dns.AIV4Mapped, SockType: dns.SockDgram})
	if err != nil || len(ais) != 1 || ais[0].Addr.Addr() != netip.AddrFrom16(testnet.AddrB.As16()) || ais[0].Family != dns.AFInet6 {
		t.Fatalf("AI_V4MAPPED without AAAA records: %v, %v", ais, err)
	}

	for _, c := range []struct {
		name  string
		hints *dns.Hints
		code  int
	}{
		{"nosuch.test", nil, dns.EAINoName},
		{"server.test", &dns.Hints{Family: dns.AFInet6}, dns.EAINoData},
		{"bad..name", nil, dns.EAINoName},
	} {
		_, err := r.GetAddrInfo(ctx, sp(c.name), nil, c.hints)
		var ge *dns.GaiError
		if !errors.As(err, &ge) || ge.Code != c.code {
			t.Errorf("%s %+v: %v, want code %d", c.name, c.hints, err, c.code)
		}
	}

	// No server configured: a temporary failure, as glibc reports it.
	_, err = n.B.Resolver.GetAddrInfo(ctx, sp("server.test"), nil, nil)
	var ge *dns.GaiError
	if !errors.As(err, &ge) || ge.Code != dns.EAIAgain {
		t.Fatalf("without servers: %v", err)
	}
}

// The stack's own view feeds AI_ADDRCONFIG, the order and scope names: a
// stack with loopback alone has no IPv4 address configured, one with
// 10.7.0.1 has.
func TestGetAddrInfoStackView(t *testing.T) {
	bare, err := gonetif.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	v4only := &dns.Hints{Flags: dns.AIAddrConfig, Family: dns.AFInet, SockType: dns.SockStream}
	var ge *dns.GaiError
	if _, err := bare.Resolver.GetAddrInfo(t.Context(), nil, sp("1"), v4only); !errors.As(err, &ge) || ge.Code != dns.EAINoName {
		t.Fatalf("AI_ADDRCONFIG on a loopback-only stack: %v", err)
	}
	n := testnet.New(t)
	if ais, err := n.A.Resolver.GetAddrInfo(t.Context(), nil, sp("1"), v4only); err != nil || len(ais) != 1 {
		t.Fatalf("AI_ADDRCONFIG with 10.7.0.1: %v %v", ais, err)
	}
	ais, err := n.A.Resolver.GetAddrInfo(t.Context(), nil, sp("1"), &dns.Hints{SockType: dns.SockStream})
	if err != nil || len(ais) != 2 || ais[0].Family != dns.AFInet6 {
		t.Fatalf("loopback pair: %v %v (::1 first, as glibc with both reachable)", ais, err)
	}
	idx := n.NetifA.NICID()
	name, _ := n.NetifA.Name()
	ais, err = n.A.Resolver.GetAddrInfo(t.Context(), sp("fe80::1%"+name), nil, &dns.Hints{SockType: dns.SockRaw})
	if err != nil || len(ais) != 1 || ais[0].Addr.Addr().Zone() != strconv.Itoa(int(idx)) {
		t.Fatalf("scope by interface name %q: %v %v", name, ais, err)
	}
}
