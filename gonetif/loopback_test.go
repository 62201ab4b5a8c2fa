package gonetif_test

import (
	"context"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/internal/hostile"
	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

var loopbacks = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}

// A stack with no interface at all still answers on 127.0.0.1 and ::1,
// over TCP and UDP, and the loopback is no interface of its own list.
func TestLoopbackStandaloneStack(t *testing.T) {
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Netifs.List(); len(got) != 0 || s.Netifs.Default() != nil {
		t.Fatalf("loopback shows as an interface: list %d, default %v", len(got), s.Netifs.Default())
	}
	for _, addr := range loopbacks {
		t.Run(addr.String(), func(t *testing.T) {
			tcpEchoWithin(t, s, netip.AddrPortFrom(addr, 7001))
			udpEchoWithin(t, s, netip.AddrPortFrom(addr, 7002))
		})
	}
}

func tcpEchoWithin(t *testing.T, s *gonetif.Stack, addr netip.AddrPort) {
	t.Helper()
	ln, err := s.ListenTCP(addr)
	if err != nil {
		t.Fatalf("listen %v: %v", addr, err)
	}
	defer ln.Close()
	go hostile.ServeEcho(ln)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := s.DialTCP(ctx, addr)
	if err != nil {
		t.Fatalf("dial %v: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if local := c.LocalAddr().String(); netip.MustParseAddrPort(local).Addr() != addr.Addr() {
		t.Fatalf("TCP to %v from %s, want from the loopback address", addr, local)
	}
	msg := []byte("hello over loopback")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	back := make([]byte, len(msg))
	if _, err := io.ReadFull(c, back); err != nil || string(back) != string(msg) {
		t.Fatalf("TCP echo %q, %v", back, err)
	}
}

func udpEchoWithin(t *testing.T, s *gonetif.Stack, addr netip.AddrPort) {
	t.Helper()
	srv, err := s.ListenUDP(addr)
	if err != nil {
		t.Fatalf("bind %v: %v", addr, err)
	}
	defer srv.Close()
	cl, err := s.DialUDP(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(5 * time.Second)
	srv.SetDeadline(deadline)
	cl.SetDeadline(deadline)
	if _, err := cl.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, from, err := srv.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("UDP server got %q, %v", buf[:n], err)
	}
	if fromAddr := netip.MustParseAddrPort(from.String()).Addr(); fromAddr != addr.Addr() {
		t.Fatalf("UDP from %v, want %v", fromAddr, addr.Addr())
	}
	if _, err := srv.WriteTo([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	if n, err = cl.Read(buf); err != nil || string(buf[:n]) != "pong" {
		t.Fatalf("UDP client got %q, %v", buf[:n], err)
	}
}

// With a real interface and a gateway, the loopback serves only loopback
// destinations: everything else follows the interface's routes, the real
// interface stays the default, and 127.0.0.1 never leaves the stack.
func TestLoopbackBesideRealInterface(t *testing.T) {
	n := testnet.New(t)
	gw := netip.MustParseAddr("10.7.0.254")
	if err := n.NetifA.SetIPInfo(netif.IPInfo{IP: testnet.AddrA, Netmask: testnet.Mask, Gateway: gw}); err != nil {
		t.Fatal(err)
	}
	if d := n.A.Netifs.Default(); d != n.NetifA || len(n.A.Netifs.List()) != 1 {
		t.Fatalf("default %v, %d interfaces: the loopback must not count", d, len(n.A.Netifs.List()))
	}
	route := func(dst netip.Addr) tcpip.NICID {
		r, err := n.A.Gvisor().FindRoute(0, tcpip.Address{}, tcpip.AddrFrom4(dst.As4()), ipv4.ProtocolNumber, false)
		if err != nil {
			t.Fatalf("no route to %v: %v", dst, err)
		}
		defer r.Release()
		return r.NICID()
	}
	for _, dst := range []string{"10.7.0.2", "8.8.8.8", "128.0.0.1", "126.255.255.255"} {
		if nic := route(netip.MustParseAddr(dst)); nic != n.NetifA.NICID() {
			t.Errorf("route to %s via NIC %d, want the real interface %d", dst, nic, n.NetifA.NICID())
		}
	}
	for _, dst := range []string{"127.0.0.1", "127.1.2.3"} {
		if nic := route(netip.MustParseAddr(dst)); nic != netif.LoopbackNIC {
			t.Errorf("route to %s via NIC %d, want the loopback", dst, nic)
		}
	}

	// B listens on every address; A's 127.0.0.1 is A's own, so nothing
	// answers there and the connection is refused at once.
	ln, err := n.B.ListenTCP(netip.AddrPortFrom(netip.IPv4Unspecified(), 7003))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := n.A.DialTCP(ctx, netip.MustParseAddrPort("127.0.0.1:7003")); err == nil {
		c.Close()
		t.Fatal("127.0.0.1 reached the other stack")
	} else if ctx.Err() != nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("dial 127.0.0.1: %v, want refused at once", err)
	}
	c, err := n.A.DialTCP(ctx, netip.AddrPortFrom(testnet.AddrB, 7003))
	if err != nil {
		t.Fatalf("the real interface stopped working: %v", err)
	}
	if local := netip.MustParseAddrPort(c.LocalAddr().String()).Addr(); local != testnet.AddrA {
		t.Errorf("TCP to B from %v, want %v", local, testnet.AddrA)
	}
	c.Close()
}
