package usernet_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/dns"
	"gonetif.dev/gonetif/internal/dnstest"
	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/link/usernet"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/socket"
	"gonetif.dev/gonetif/stack"
	"gonetif.dev/internal/lantest"
)

var (
	devIP   = netip.MustParseAddr("10.0.2.15")
	gateway = netip.MustParseAddr("10.0.2.2")
	dnsIP   = netip.MustParseAddr("10.0.2.3")
	mask24  = netip.MustParseAddr("255.255.255.0")
)

// device is a gonetif stack on the user-mode network, static 10.0.2.15.
type device struct {
	s   *gonetif.Stack
	nif *netif.Netif
	net *usernet.Network
}

func newDevice(t *testing.T, opts usernet.Options, dhcp bool) *device {
	t.Helper()
	n, err := usernet.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	cfg := netif.Config{Key: "USER", Desc: "user", Flags: netif.FlagAutoUp, RoutePrio: 100}
	if dhcp {
		cfg.Flags |= netif.FlagDHCPClient
	} else {
		cfg.IPInfo = netif.IPInfo{IP: devIP, Netmask: mask24, Gateway: gateway}
	}
	nif, err := s.AddInterface(cfg, n.Link())
	if err != nil {
		s.Close()
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		n.Close()
	})
	return &device{s: s, nif: nif, net: n}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestTCPToHostLoopbackThroughGateway(t *testing.T) {
	l := lantest.HostEcho(t)
	d := newDevice(t, usernet.Options{}, false)
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	c, err := d.s.DialTCP(ctx(t), netip.AddrPortFrom(gateway, port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte("hello through the gateway")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo %q, %v", got, err)
	}
}

func TestUDPToHostLoopbackThroughGateway(t *testing.T) {
	hc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			k, from, err := hc.ReadFromUDP(buf)
			if err != nil {
				return
			}
			hc.WriteToUDP(append([]byte("echo:"), buf[:k]...), from)
		}
	}()
	d := newDevice(t, usernet.Options{}, false)
	c, err := d.s.DialUDP(netip.AddrPortFrom(gateway, uint16(hc.LocalAddr().(*net.UDPAddr).Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 3 { // the first datagram makes the flow; later ones reuse it
		msg := []byte{'p', byte('0' + i)}
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		k, err := c.Read(buf)
		if err != nil || string(buf[:k]) != "echo:"+string(msg) {
			t.Fatalf("reply %q, %v", buf[:k], err)
		}
	}
}

func TestDHCPLeaseRouterAndDNS(t *testing.T) {
	d := newDevice(t, usernet.Options{}, true)
	if err := d.nif.Connected(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !d.nif.IPInfo().HasIP() {
		if time.Now().After(deadline) {
			t.Fatal("no DHCP lease within 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	info := d.nif.IPInfo()
	if info.IP != devIP || info.Netmask != mask24 || info.Gateway != gateway {
		t.Fatalf("lease %+v, want 10.0.2.15/24 via 10.0.2.2", info)
	}
	if dns := d.s.Netifs.DNSServers(); len(dns) == 0 || dns[0] != dnsIP {
		t.Fatalf("DNS servers %v, want 10.0.2.3 first", dns)
	}
	if leases := d.net.Leases(); leases[usernet.DefaultMAC.String()] != devIP {
		t.Fatalf("server's leases %v", leases)
	}
}

// fakeUpstream is the host's DNS server for the test, on loopback (the
// host resolver's real servers are never asked): host.test is 192.0.2.7,
// every other name NXDOMAIN.
func fakeUpstream(t *testing.T) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go dnstest.Serve(pc, func(name string) (netip.Addr, bool) {
		return netip.AddrFrom4([4]byte{192, 0, 2, 7}), name == "host.test"
	})
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp4", pc.LocalAddr().String())
	}}
}

func TestDNSFromHostResolver(t *testing.T) {
	d := newDevice(t, usernet.Options{Resolver: fakeUpstream(t)}, false)
	d.s.Resolver.Servers = func() []netip.Addr { return []netip.Addr{dnsIP} }
	for name, want := range map[string]string{"localhost": "127.0.0.1", "host.test": "192.0.2.7"} {
		res, err := d.s.Resolver.Lookup(ctx(t), name, 4)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(res.Addrs) != 1 || res.Addrs[0].String() != want {
			t.Fatalf("%s = %v, want %s", name, res.Addrs, want)
		}
	}
	// A name the host cannot resolve is NXDOMAIN, not a timeout.
	start := time.Now()
	_, err := d.s.Resolver.Lookup(ctx(t), "no-such-name.test", 4)
	var de *dns.Error
	if !errors.As(err, &de) || de.Kind != dns.NotFound || time.Since(start) > 5*time.Second {
		t.Fatalf("no-such-name.test: %v after %v, want NXDOMAIN at once", err, time.Since(start))
	}
}

func TestPingGateway(t *testing.T) {
	d := newDevice(t, usernet.Options{}, false)
	so, err := socket.New(d.s.Gvisor(), unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	echo := header.ICMPv4(make([]byte, header.ICMPv4MinimumSize+4))
	echo.SetType(header.ICMPv4Echo)
	copy(echo.Payload(), "ping")
	to := tcpip.FullAddress{Addr: tcpip.AddrFrom4(gateway.As4())}
	if _, err := so.Send(echo, &to, socket.SendFlags{}); err != nil {
		t.Fatal(err)
	}
	if err := so.Wait(socket.EventIn, time.Now().Add(5*time.Second)); err != nil {
		t.Fatal("no echo reply from the gateway")
	}
	buf := make([]byte, 64)
	res, err := so.Recv(buf, socket.RecvFlags{NeedRemoteAddr: true})
	reply := header.ICMPv4(buf[:res.N])
	if err != nil || reply.Type() != header.ICMPv4EchoReply || string(reply.Payload()) != "ping" ||
		res.From.Addr != to.Addr {
		t.Fatalf("reply %x from %v, %v", buf[:res.N], res.From.Addr, err)
	}
}

// connectErrno connects a device socket and returns the connect's errno.
func connectErrno(t *testing.T, d *device, to netip.AddrPort) error {
	t.Helper()
	so, err := socket.New(d.s.Gvisor(), unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	err = so.Connect(tcpip.FullAddress{Addr: tcpip.AddrFrom4(to.Addr().As4()), Port: to.Port()})
	if err != unix.EINPROGRESS {
		return err
	}
	if err := so.Wait(socket.EventOut|socket.EventErr|socket.EventHUp, time.Now().Add(10*time.Second)); err != nil {
		t.Fatal("connect did not finish in 10 s")
	}
	return so.ConnectResult()
}

func TestRefusedAndUnreachable(t *testing.T) {
	// A free loopback port: nothing listens, the host refuses.
	l, _ := net.Listen("tcp4", "127.0.0.1:0")
	closedPort := uint16(l.Addr().(*net.TCPAddr).Port)
	l.Close()

	unreachable := netip.MustParseAddrPort("10.99.0.1:80")
	var mu sync.Mutex
	var seen []error
	opts := usernet.Options{
		// The host's answer for an unreachable network, without sending
		// anything off this machine.
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == unreachable.String() {
				return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		OnError: func(err error) {
			mu.Lock()
			seen = append(seen, err)
			mu.Unlock()
		},
	}
	d := newDevice(t, opts, false)
	if err := connectErrno(t, d, netip.AddrPortFrom(gateway, closedPort)); err != unix.ECONNREFUSED {
		t.Errorf("connect to a closed host port: %v, want ECONNREFUSED", err)
	}
	if err := connectErrno(t, d, unreachable); err != unix.EHOSTUNREACH {
		t.Errorf("connect to an unreachable host: %v, want EHOSTUNREACH", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || !errors.Is(seen[0], usernet.ErrDialFailed) || !errors.Is(seen[0], syscall.ECONNREFUSED) ||
		!errors.Is(seen[1], syscall.EHOSTUNREACH) {
		t.Errorf("reported errors %v", seen)
	}
}

func TestHostForwardTCPAndUDP(t *testing.T) {
	fwds, err := usernet.ParseHostForwards("tcp:127.0.0.1:0-:80,udp::0-:5353")
	if err != nil {
		t.Fatal(err)
	}
	d := newDevice(t, usernet.Options{HostForwards: fwds}, false)
	l, err := d.s.ListenTCP(netip.AddrPortFrom(devIP, 80))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, io.LimitReader(c, 5))
		c.Write([]byte(" from the device"))
	}()
	u, err := d.s.ListenUDP(netip.AddrPortFrom(devIP, 5353))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	go func() {
		buf := make([]byte, 256)
		k, from, err := u.ReadFrom(buf)
		if err == nil {
			u.WriteTo(append([]byte("udp:"), buf[:k]...), from)
		}
	}()

	c, err := net.DialTimeout("tcp4", d.net.HostAddr(0).String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello from the device" {
		t.Fatalf("TCP forward: %q, %v", got, err)
	}

	uc, err := net.Dial("udp4", d.net.HostAddr(1).String())
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	uc.Write([]byte("q"))
	uc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	k, err := uc.Read(buf)
	if err != nil || string(buf[:k]) != "udp:q" {
		t.Fatalf("UDP forward: %q, %v", buf[:k], err)
	}
}

func TestHostForwardToClosedDevicePortResets(t *testing.T) {
	fwds, _ := usernet.ParseHostForwards("tcp::0-:81")
	reported := make(chan error, 1)
	d := newDevice(t, usernet.Options{HostForwards: fwds, OnError: func(err error) {
		select {
		case reported <- err:
		default:
		}
	}}, false)
	// The reset may come before the kernel reports the connect done.
	c, err := net.DialTimeout("tcp4", d.net.HostAddr(0).String(), 5*time.Second)
	if err == nil {
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Read(make([]byte, 1))
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("got %v, want ECONNRESET", err)
	}
	if err := <-reported; !errors.Is(err, usernet.ErrForwardFailed) {
		t.Fatalf("reported %v", err)
	}
}

func TestParseHostForwards(t *testing.T) {
	got, err := usernet.ParseHostForwards("tcp:127.0.0.1:8080-:80, udp::5353-10.0.2.16:53,:2222-:22")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tcp:127.0.0.1:8080-:80", "udp:127.0.0.1:5353-10.0.2.16:53", "tcp:127.0.0.1:2222-:22"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("rule %d = %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"tcp:127.0.0.1:8080", "sctp::1-:2", "tcp::99999-:80", "tcp::80-:0",
		"tcp:host:80-:80", "tcp::80-:x", "a:b:c:d-:1", "tcp::80-80"} {
		if _, err := usernet.ParseHostForwards(bad); !errors.Is(err, usernet.ErrBadHostForward) {
			t.Errorf("%q: %v, want ErrBadHostForward", bad, err)
		}
	}
}

func TestHostPortInUse(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fwds, _ := usernet.ParseHostForwards("tcp:" + l.Addr().String() + "-:80")
	n, err := usernet.New(usernet.Options{HostForwards: fwds})
	if err == nil {
		n.Close()
	}
	if !errors.Is(err, usernet.ErrHostPortInUse) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("got %v, want ErrHostPortInUse wrapping EADDRINUSE", err)
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []usernet.Options{
		{Net: netip.MustParsePrefix("10.0.2.0/30")},
		{Net: netip.MustParsePrefix("fd00::/64")},
		{Gateway: netip.MustParseAddr("10.0.3.2")},
		{DNS: netip.MustParseAddr("10.0.2.2")},
		{DHCPStart: netip.MustParseAddr("10.0.2.250"), DHCPCount: 10},
		{DHCPStart: netip.MustParseAddr("10.0.2.1"), DHCPCount: 4},
		{MTU: 100},
		{MAC: net.HardwareAddr{1, 2}},
	} {
		if n, err := usernet.New(o); !errors.Is(err, usernet.ErrBadOptions) {
			if n != nil {
				n.Close()
			}
			t.Errorf("%+v: %v, want ErrBadOptions", o, err)
		}
	}
}

// TestDHCPPoolExhausted asks with two MACs for a pool of one.
func TestDHCPPoolExhausted(t *testing.T) {
	reported := make(chan error, 4)
	d := newDevice(t, usernet.Options{DHCPCount: 1, OnError: func(err error) { reported <- err }}, false)
	so, err := socket.New(d.s.Gvisor(), unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	if err := so.SetOptionInt(unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
		t.Fatal(err)
	}
	if err := so.Bind(tcpip.FullAddress{Port: 68}); err != nil {
		t.Fatal(err)
	}
	bcast := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{255, 255, 255, 255}), Port: 67}
	ask := func(mac net.HardwareAddr) *dhcpv4.DHCPv4 {
		m, err := dhcpv4.NewDiscovery(mac)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := so.Send(m.ToBytes(), &bcast, socket.SendFlags{}); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		until := time.Now().Add(2 * time.Second)
		for so.Wait(socket.EventIn, until) == nil {
			res, err := so.Recv(buf, socket.RecvFlags{})
			if err != nil {
				continue
			}
			if r, err := dhcpv4.FromBytes(buf[:res.N]); err == nil && r.TransactionID == m.TransactionID {
				return r
			}
		}
		return nil
	}
	first := ask(net.HardwareAddr{2, 0, 0, 0, 0, 1})
	if first == nil || first.MessageType() != dhcpv4.MessageTypeOffer || !first.YourIPAddr.Equal(devIP.AsSlice()) {
		t.Fatalf("first MAC: %v", first)
	}
	if second := ask(net.HardwareAddr{2, 0, 0, 0, 0, 2}); second != nil {
		t.Fatalf("second MAC got %v from an exhausted pool", second.Summary())
	}
	select {
	case err := <-reported:
		if !errors.Is(err, usernet.ErrPoolExhausted) {
			t.Fatalf("reported %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ErrPoolExhausted reported")
	}
}

// TestBulkBothWays moves 20 MB each way at once through the gateway and
// compares SHA-256 sums.
func TestBulkBothWays(t *testing.T) {
	const size = 20 << 20
	data := func(seed uint64) io.Reader {
		return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed)}), size)
	}
	sum := func(seed uint64) [32]byte {
		h := sha256.New()
		io.Copy(h, data(seed))
		return [32]byte(h.Sum(nil))
	}
	l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	hostGot := make(chan [32]byte, 1)
	go func() {
		c, err := l.AcceptTCP()
		if err != nil {
			hostGot <- [32]byte{}
			return
		}
		defer c.Close()
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			io.Copy(c, data(2))
			c.CloseWrite()
		}()
		h := sha256.New()
		io.Copy(h, c)
		<-wrote
		hostGot <- [32]byte(h.Sum(nil))
	}()
	d := newDevice(t, usernet.Options{}, false)
	c, err := d.s.DialTCP(ctx(t), netip.AddrPortFrom(gateway, uint16(l.Addr().(*net.TCPAddr).Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	sent := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, data(1))
		c.CloseWrite()
		sent <- err
	}()
	h := sha256.New()
	n, err := io.Copy(h, c)
	if err != nil || n != size {
		t.Fatalf("device received %d bytes, %v", n, err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if [32]byte(h.Sum(nil)) != sum(2) {
		t.Fatal("device received different bytes")
	}
	if <-hostGot != sum(1) {
		t.Fatal("host received different bytes")
	}
}

// TestCloseLeavesNoGoroutines runs traffic of every kind, closes, and
// expects the goroutine count back where it started.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	l := lantest.HostEcho(t)
	before := runtime.NumGoroutine()
	func() {
		fwds, _ := usernet.ParseHostForwards("tcp::0-:80,udp::0-:53")
		n, err := usernet.New(usernet.Options{HostForwards: fwds})
		if err != nil {
			t.Fatal(err)
		}
		s, err := gonetif.New(stack.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddInterface(netif.Config{Key: "U", Flags: netif.FlagAutoUp,
			IPInfo: netif.IPInfo{IP: devIP, Netmask: mask24, Gateway: gateway}}, n.Link()); err != nil {
			t.Fatal(err)
		}
		// An open TCP relay and UDP flow are left running at Close.
		c, err := s.DialTCP(ctx(t), netip.AddrPortFrom(gateway, uint16(l.Addr().(*net.TCPAddr).Port)))
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("x"))
		io.ReadFull(c, make([]byte, 1))
		u, _ := s.DialUDP(netip.AddrPortFrom(gateway, 9))
		u.Write([]byte("x"))
		hc, err := net.Dial("tcp4", n.HostAddr(0).String())
		if err == nil {
			hc.Close()
		}
		s.Resolver.Servers = func() []netip.Addr { return []netip.Addr{dnsIP} }
		s.Resolver.Lookup(ctx(t), "localhost", 4)
		n.Close()
		c.Close()
		u.Close()
		s.Close()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, runtime.NumGoroutine(),
				buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConnectionChurn opens and closes many short connections through the
// gateway, the host closing first (netperf's TCP_CRR).
func TestConnectionChurn(t *testing.T) {
	l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				b := make([]byte, 1)
				if _, err := io.ReadFull(c, b); err == nil {
					c.Write(b)
				}
				c.Close()
			}()
		}
	}()
	d := newDevice(t, usernet.Options{}, false)
	to := netip.AddrPortFrom(gateway, uint16(l.Addr().(*net.TCPAddr).Port))
	deadline := time.Now().Add(30 * time.Second)
	for i := range 500 {
		c, err := d.s.DialTCP(ctx(t), to)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		c.SetDeadline(deadline)
		b := []byte{byte(i)}
		if _, err := c.Write(b); err != nil {
			t.Fatalf("connection %d: write %v", i, err)
		}
		r := make([]byte, 2)
		if _, err := io.ReadFull(c, r[:1]); err != nil || r[0] != b[0] {
			t.Fatalf("connection %d: echo %v", i, err)
		}
		if k, err := c.Read(r[1:]); k != 0 || err != io.EOF {
			t.Fatalf("connection %d: want EOF, got %d, %v", i, k, err)
		}
		c.Close()
	}
}

// TestSharedGatewayTwoDevices puts the gateway on a caller's link (here
// a hub of two cables standing in for a virtual LAN): two devices lease
// distinct addresses and both reach the host.
func TestSharedGatewayTwoDevices(t *testing.T) {
	l := lantest.HostEcho(t)
	hub := newHub(t, 3)
	n, err := usernet.New(usernet.Options{GatewayLink: hub.port(0, "\x52\x55\x0a\x00\x02\x02")})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Link() != nil {
		t.Fatal("Link must be nil with GatewayLink")
	}
	var addrs []netip.Addr
	for i := 1; i <= 2; i++ {
		s, err := gonetif.New(stack.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		nif, err := s.AddInterface(netif.Config{Key: "D", Flags: netif.FlagAutoUp | netif.FlagDHCPClient,
			MAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(i)}}, hub.port(i, string([]byte{2, 0, 0, 0, 0, byte(i)})))
		if err != nil {
			t.Fatal(err)
		}
		nif.Connected()
		for end := time.Now().Add(10 * time.Second); !nif.IPInfo().HasIP(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("device %d: no lease", i)
			}
		}
		addrs = append(addrs, nif.IPInfo().IP)
		c, err := s.DialTCP(ctx(t), netip.AddrPortFrom(gateway, uint16(l.Addr().(*net.TCPAddr).Port)))
		if err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
		c.Write([]byte("x"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Fatalf("device %d: echo %v", i, err)
		}
		c.Close()
	}
	if addrs[0] == addrs[1] || !netip.MustParsePrefix("10.0.2.0/24").Contains(addrs[1]) {
		t.Fatalf("leases %v", addrs)
	}
}

// hub is a minimal repeater for tests: every frame goes to every other port.
type hub struct {
	mu    sync.Mutex
	ports []*driver.Endpoint
}

func newHub(t *testing.T, n int) *hub {
	return &hub{ports: make([]*driver.Endpoint, n)}
}

func (h *hub) port(i int, mac string) *driver.Endpoint {
	ep := driver.New(driver.Options{MAC: tcpip.LinkAddress(mac), Transmit: func(frame []byte) error {
		h.mu.Lock()
		ports := append([]*driver.Endpoint(nil), h.ports...)
		h.mu.Unlock()
		f := append([]byte(nil), frame...)
		for j, p := range ports {
			if j != i && p != nil {
				go p.Receive(f)
			}
		}
		return nil
	}})
	h.mu.Lock()
	h.ports[i] = ep
	h.mu.Unlock()
	return ep
}

// TestHostResetReachesDevice: the host peer aborts; the app sees a reset,
// not a clean end of stream.
func TestHostResetReachesDevice(t *testing.T) {
	l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.AcceptTCP()
		if err != nil {
			return
		}
		io.ReadFull(c, make([]byte, 1))
		c.SetLinger(0)
		c.Close()
	}()
	d := newDevice(t, usernet.Options{}, false)
	c, err := d.s.DialTCP(ctx(t), netip.AddrPortFrom(gateway, uint16(l.Addr().(*net.TCPAddr).Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Read(make([]byte, 1))
	if err == nil || err == io.EOF || !strings.Contains(err.Error(), (&tcpip.ErrConnectionReset{}).String()) {
		t.Fatalf("read %v, want a reset", err)
	}
}

// TestUDPToClosedHostPort: the host's ICMP port unreachable reaches the
// app's connected UDP socket as ECONNREFUSED, as on a real network.
func TestUDPToClosedHostPort(t *testing.T) {
	hc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	closedPort := uint16(hc.LocalAddr().(*net.UDPAddr).Port)
	hc.Close()
	d := newDevice(t, usernet.Options{}, false)
	so, err := socket.New(d.s.Gvisor(), unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	if err := so.Connect(tcpip.FullAddress{Addr: tcpip.AddrFrom4(gateway.As4()), Port: closedPort}); err != nil {
		t.Fatal(err)
	}
	// The first datagram opens the flow; the host's refusal of it (or of
	// a later one) comes back as an error on the socket.
	until := time.Now().Add(10 * time.Second)
	for {
		if _, err := so.Send([]byte("x"), nil, socket.SendFlags{}); err == unix.ECONNREFUSED {
			return
		}
		if so.Wait(socket.EventIn|socket.EventErr, time.Now().Add(200*time.Millisecond)) == nil {
			_, err := so.Recv(make([]byte, 8), socket.RecvFlags{})
			if err == unix.ECONNREFUSED {
				return
			}
			t.Fatalf("recv %v, want ECONNREFUSED", err)
		}
		if time.Now().After(until) {
			t.Fatal("no ECONNREFUSED within 10 s")
		}
	}
}
