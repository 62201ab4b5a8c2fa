package usernet_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/usernet"
	"gonetif.dev/gonetif/link/vlan"
	"gonetif.dev/internal/lantest"
)

// lanDevice is a DHCP stack on a port of sw.
func lanDevice(t *testing.T, sw *vlan.Switch, i byte) (*gonetif.Stack, netip.Addr) {
	t.Helper()
	port, err := sw.NewPort(vlan.PortOptions{MAC: tcpip.LinkAddress([]byte{2, 0, 0, 0, 0x30, i})})
	if err != nil {
		t.Fatal(err)
	}
	return lantest.DHCPStack(t, fmt.Sprintf("LAN%d", i), port)
}

// echoOnce sends msg to to over TCP and expects it back.
func echoOnce(t *testing.T, s *gonetif.Stack, to netip.AddrPort, msg string) {
	t.Helper()
	c, err := s.DialTCP(ctx(t), to)
	if err != nil {
		t.Fatalf("dial %v: %v", to, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo from %v: %q, %v; want %q", to, got, err, msg)
	}
}

// TestGatewayOnVirtualLAN: the gateway on a port of a vlan switch serves
// two devices: distinct DHCP leases, both reach the host's loopback
// through it (as does a third with a static address), they reach each other, a host port forward reaches the
// first, an address nobody has gets no answer (the gateway does not stand
// in for the LAN's hosts), and nothing is left running after Close.
func TestGatewayOnVirtualLAN(t *testing.T) {
	l := lantest.HostEcho(t)
	echoPort := uint16(l.Addr().(*net.TCPAddr).Port)
	before := runtime.NumGoroutine()
	func() {
		sw, err := vlan.NewSwitch(vlan.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer sw.Close()
		gwPort, err := sw.NewPort(vlan.PortOptions{MAC: usernet.GatewayMAC, Name: "gateway"})
		if err != nil {
			t.Fatal(err)
		}
		fwds, _ := usernet.ParseHostForwards("tcp::0-:80")
		n, err := usernet.New(usernet.Options{GatewayLink: gwPort, HostForwards: fwds})
		if err != nil {
			gwPort.Close()
			t.Fatal(err)
		}
		defer n.Close()

		a, addrA := lanDevice(t, sw, 1)
		defer a.Close()
		b, addrB := lanDevice(t, sw, 2)
		defer b.Close()
		if addrA != devIP || addrB != devIP.Next() {
			t.Fatalf("leases %v and %v, want %v and %v", addrA, addrB, devIP, devIP.Next())
		}
		if got := len(n.Leases()); got != 2 {
			t.Fatalf("gateway holds %d leases, want 2: %v", got, n.Leases())
		}

		to := netip.AddrPortFrom(gateway, echoPort)
		echoOnce(t, a, to, "from A via the gateway")
		echoOnce(t, b, to, "from B via the gateway")
		// A device with a static address outside the pool uses the gateway too.
		staticPort, err := sw.NewPort(vlan.PortOptions{MAC: tcpip.LinkAddress([]byte{2, 0, 0, 0, 0x30, 9})})
		if err != nil {
			t.Fatal(err)
		}
		static := lantest.Stack(t, "STATIC", staticPort, netip.MustParseAddr("10.0.2.100"))
		defer static.Close()
		echoOnce(t, static, to, "from a static address via the gateway")
		lantest.TCPEcho(t, static, a, addrA, 7000, 64<<10)

		lantest.TCPEcho(t, a, b, addrB, 7001, 1<<20)
		lantest.TCPEcho(t, b, a, addrA, 7002, 64<<10)
		lantest.UDPEcho(t, a, b, addrB, 7003)

		// The forward goes to the first lease, device A.
		ln, err := a.ListenTCP(netip.AddrPortFrom(netip.IPv4Unspecified(), 80))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				c.Write([]byte("device A here"))
				c.Close()
			}
		}()
		hc, err := net.DialTimeout("tcp4", n.HostAddr(0).String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		hc.SetDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(hc)
		hc.Close()
		if err != nil || string(got) != "device A here" {
			t.Fatalf("forward %v: %q, %v", n.HostAddr(0), got, err)
		}

		// Nobody has .99: no ARP answer, so no connection; a spoofing
		// gateway answering for it would reset the connect at once.
		cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		start := time.Now()
		c, err := a.DialTCP(cctx, netip.AddrPortFrom(netip.MustParseAddr("10.0.2.99"), 7004))
		if err == nil {
			c.Close()
			t.Fatal("connected to 10.0.2.99, which no device has")
		}
		if strings.Contains(err.Error(), "refused") || time.Since(start) < 500*time.Millisecond {
			t.Fatalf("dial 10.0.2.99: %v after %v; want no answer (host unreachable or a timeout)", err, time.Since(start))
		}
	}()
	lantest.NoLeak(t, before)
}

// BenchmarkBulkToHost: one-way bulk TCP from a device to a sink on the
// host's loopback through the gateway, on its private cable and on a
// virtual LAN port (switch and LAN filter in the path).
//
//	go test ./gonetif/link/usernet -run '^$' -bench BulkToHost -benchtime 3s
func BenchmarkBulkToHost(b *testing.B) {
	sink, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	go func() {
		for {
			c, err := sink.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(io.Discard, c)
			}()
		}
	}()
	to := netip.AddrPortFrom(gateway, uint16(sink.Addr().(*net.TCPAddr).Port))
	run := func(b *testing.B, s *gonetif.Stack) {
		c, err := s.DialTCP(context.Background(), to)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		buf := make([]byte, 64<<10)
		b.SetBytes(int64(len(buf)))
		b.ResetTimer()
		for range b.N {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("cable", func(b *testing.B) {
		n, err := usernet.New(usernet.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer n.Close()
		s := lantest.Stack(b, "C", n.Link(), devIP)
		run(b, s)
	})
	b.Run("lan", func(b *testing.B) {
		sw, _ := vlan.NewSwitch(vlan.Options{})
		defer sw.Close()
		gwPort, _ := sw.NewPort(vlan.PortOptions{MAC: usernet.GatewayMAC})
		n, err := usernet.New(usernet.Options{GatewayLink: gwPort})
		if err != nil {
			b.Fatal(err)
		}
		defer n.Close()
		port, _ := sw.NewPort(vlan.PortOptions{MAC: tcpip.LinkAddress([]byte{2, 0, 0, 0, 0x31, 1})})
		s := lantest.Stack(b, "L", port, devIP)
		run(b, s)
	})
}
