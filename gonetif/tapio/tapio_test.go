package tapio

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/delay"
	"gonetif.dev/gonetif/link/usernet"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
	"gonetif.dev/internal/lantest"
)

func TestFromEnvListsAndDefaults(t *testing.T) {
	t.Setenv(EnvTAP, "tapA, tapB")
	t.Setenv(EnvMAC, "02:00:00:00:00:0a")
	t.Setenv(EnvMTU, "1400")
	t.Setenv(EnvInLoss, "5")
	t.Setenv(EnvPCAP, "/tmp/cap-%d.pcap")

	first, err := FromEnv(Config{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if first.Name != "tapA" || first.MAC.String() != "02:00:00:00:00:0a" || first.MTU != 1400 ||
		first.InLoss != 5 || first.PCAP != "/tmp/cap-0.pcap" {
		t.Fatalf("first device: %+v", first)
	}
	second, err := FromEnv(Config{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The MAC list has one entry: the second device gets a derived MAC.
	if second.Name != "tapB" || second.MAC.String() != "02:12:34:56:78:ac" || second.PCAP != "/tmp/cap-1.pcap" {
		t.Fatalf("second device: %+v", second)
	}
	third, _ := FromEnv(Config{}, 2)
	if third.Name != "tap2" {
		t.Fatalf("third device name %q, want tap2", third.Name)
	}
}

func TestFromEnvExplicitWins(t *testing.T) {
	t.Setenv(EnvTAP, "fromenv")
	t.Setenv(EnvPlain, "1")
	mac := net.HardwareAddr{2, 1, 1, 1, 1, 1}
	cfg, err := FromEnv(Config{Name: "explicit", MAC: mac}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "explicit" || cfg.MAC.String() != mac.String() || !cfg.Plain {
		t.Fatalf("%+v", cfg)
	}
}

func TestFromEnvRejectsMalformed(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{EnvMAC, "not-a-mac"},
		{EnvMTU, "12"},
		{EnvMTU, "big"},
		{EnvPlain, "yes"},
		{EnvInLoss, "101"},
		{EnvOutLoss, "-1"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			_, err := FromEnv(Config{}, 0)
			var te *Error
			if !errors.As(err, &te) || !errors.Is(err, unix.EINVAL) {
				t.Fatalf("got %v, want a *tapio.Error wrapping EINVAL", err)
			}
		})
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{MAC: net.HardwareAddr{1, 2, 3}},
		{InLoss: 200},
		{OutLoss: -5},
	} {
		if _, err := Open(cfg); !errors.Is(err, unix.EINVAL) {
			t.Errorf("Open(%+v) = %v, want EINVAL", cfg, err)
		}
	}
}

// The app's compile-time loss applies only when neither the field nor the
// environment gives one.
func TestAppLossPrecedence(t *testing.T) {
	cfg, err := FromEnv(Config{AppInLoss: 100, AppOutLoss: 7}, 0)
	if err != nil || cfg.InLoss != 100 || cfg.OutLoss != 7 {
		t.Fatalf("app loss not applied: %+v %v", cfg, err)
	}
	t.Setenv(EnvInLoss, "0")
	cfg, _ = FromEnv(Config{AppInLoss: 100}, 0)
	if cfg.InLoss != 0 {
		t.Fatalf("GONETIF_IN_LOSS=0 did not override the app's 100: %d", cfg.InLoss)
	}
	cfg, _ = FromEnv(Config{InLoss: 3, AppInLoss: 100}, 0)
	if cfg.InLoss != 3 {
		t.Fatalf("explicit field lost: %d", cfg.InLoss)
	}
}

func TestNetpollSwitch(t *testing.T) {
	if cfg, _ := FromEnv(Config{}, 0); cfg.PollThread {
		t.Fatal("poll thread on by default")
	}
	t.Setenv(EnvNetpoll, "0")
	if cfg, _ := FromEnv(Config{}, 0); !cfg.PollThread {
		t.Fatal("GONETIF_TAP_NETPOLL=0 did not select the poll thread")
	}
	t.Setenv(EnvNetpoll, "2")
	if _, err := FromEnv(Config{}, 0); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("GONETIF_TAP_NETPOLL=2: %v, want EINVAL", err)
	}
}

func TestFromEnvUserLink(t *testing.T) {
	t.Setenv(EnvLink, "user,tap")
	t.Setenv(EnvHostFwd, "tcp::8080-:80")
	t.Setenv(EnvUserNet, "10.9.0.0/24")
	first, err := FromEnv(Config{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if first.Link != LinkUser || first.HostFwd != "tcp::8080-:80" || first.UserNet.String() != "10.9.0.0/24" {
		t.Fatalf("first device: %+v", first)
	}
	// The forwards' host ports can serve one device: the first.
	second, err := FromEnv(Config{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if second.Link != LinkTAP || second.HostFwd != "" {
		t.Fatalf("second device: %+v", second)
	}
	// A single kind is every device's.
	t.Setenv(EnvLink, "user")
	if third, err := FromEnv(Config{}, 2); err != nil || third.Link != LinkUser {
		t.Fatalf("third device: %+v, %v", third, err)
	}
	for _, tc := range []struct{ name, value string }{{EnvLink, "slirp"}, {EnvUserNet, "10.0.2.0"}} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			if _, err := FromEnv(Config{}, 0); !errors.Is(err, unix.EINVAL) {
				t.Fatalf("got %v, want EINVAL", err)
			}
		})
	}
}

func TestOpenUserLinkNeedsNoTAP(t *testing.T) {
	// A clone device that does not exist: the user link must not touch it.
	d, err := Open(Config{Link: LinkUser, Device: "/nonexistent/tun", PCAP: t.TempDir() + "/u.pcap", InLoss: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.User() == nil || d.Tap() != nil || !strings.Contains(d.Describe(), "user-mode network 10.0.2.0/24") {
		t.Fatalf("driver %q", d.Describe())
	}
	// tapio_output's path: a raw frame goes to the gateway.
	if err := d.WriteFrame(make([]byte, 60)); err != nil {
		t.Fatal(err)
	}
	// A host address in the network is the gateway.
	g, err := Open(Config{Link: LinkUser, UserNet: netip.MustParsePrefix("192.168.5.1/24")})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if o := g.User().Options(); o.Gateway.String() != "192.168.5.1" || o.DNS.String() != "192.168.5.3" ||
		o.Net.String() != "192.168.5.0/24" {
		t.Fatalf("options %+v", o)
	}
	if _, err := Open(Config{Link: LinkUser, HostFwd: "tcp:1.2.3.4"}); !errors.Is(err, usernet.ErrBadHostForward) {
		t.Fatalf("bad forward: %v", err)
	}
	if _, err := Open(Config{Link: "bogus"}); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("bad link: %v", err)
	}
}

// The layers work on the user-mode link: a DHCP exchange lands in the pcap.
func TestUserLinkWithCapture(t *testing.T) {
	pcap := t.TempDir() + "/u.pcap"
	d, err := Open(Config{Link: LinkUser, PCAP: pcap})
	if err != nil {
		t.Fatal(err)
	}
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := s.AddInterface(netif.Config{Key: "U", Flags: netif.FlagAutoUp | netif.FlagDHCPClient}, d.Link())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Connected(); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); !n.IPInfo().HasIP(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("no lease on the user-mode link")
		}
	}
	if got := n.IPInfo().IP.String(); got != "10.0.2.15" {
		t.Fatalf("leased %s", got)
	}
	s.Close() // closes the link, the capture file with it
	st, err := os.Stat(pcap)
	// Header (24) + at least DISCOVER, OFFER, REQUEST, ACK of 300+ bytes.
	if err != nil || st.Size() < 24+4*300 {
		t.Fatalf("capture: %v, %v", st, err)
	}
}

func TestFromEnvLinkAndDelay(t *testing.T) {
	t.Setenv(EnvLink, "tap, vlan:lan0")
	t.Setenv(EnvInDelay, "20ms/5ms")
	t.Setenv(EnvOutDelay, "1s")
	first, err := FromEnv(Config{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if first.Link != "tap" || first.MAC != nil {
		t.Fatalf("first device: %+v", first)
	}
	if first.InDelay.Delay != 20*time.Millisecond || first.InDelay.Jitter != 5*time.Millisecond || first.OutDelay.Delay != time.Second {
		t.Fatalf("delays %v, %v", first.InDelay, first.OutDelay)
	}
	// Devices past the list's end take its last entry; on a LAN each
	// device of each process gets its own MAC.
	second, _ := FromEnv(Config{}, 1)
	third, _ := FromEnv(Config{}, 2)
	if second.Link != "vlan:lan0" || third.Link != "vlan:lan0" {
		t.Fatalf("links %q, %q", second.Link, third.Link)
	}
	if second.MAC.String() == third.MAC.String() || second.MAC[0] != 0x02 {
		t.Fatalf("LAN MACs %v, %v: want distinct, locally administered", second.MAC, third.MAC)
	}
	if a, b := vlanMAC(100, 0), vlanMAC(101, 0); a.String() == b.String() {
		t.Fatalf("two processes got MAC %v", a)
	}
	for _, bad := range []string{"20", "5ms/10ms", "soon"} {
		t.Setenv(EnvOutDelay, bad)
		if _, err := FromEnv(Config{}, 0); !errors.Is(err, unix.EINVAL) {
			t.Errorf("%s=%q: %v, want EINVAL", EnvOutDelay, bad, err)
		}
	}
}

func TestOpenRejectsBadLinks(t *testing.T) {
	for _, link := range []string{"bogus", "vlan:", "vlan:lan.sock", "vlan:a b", "user:", "user:./lan.sock", "user:a b"} {
		_, err := Open(Config{Link: link})
		var te *Error
		if !errors.As(err, &te) || !errors.Is(err, unix.EINVAL) {
			t.Errorf("Open(link %q) = %v, want a *tapio.Error wrapping EINVAL", link, err)
		}
	}
	_, err := Open(Config{Link: "vlan:" + filepath.Join(t.TempDir(), "none.sock")})
	var te *Error
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "no switch at") {
		t.Errorf("Open on a missing switch: %v", err)
	}
}

// TestVirtualLANWithLayers: two drivers on one in-process LAN, the first
// with the loss, delay and capture layers stacked as on a TAP, talk TCP
// and UDP; the capture records the traffic and the delay shows in the RTT.
func TestVirtualLANWithLayers(t *testing.T) {
	pcap := filepath.Join(t.TempDir(), "a.pcap")
	a, err := Open(Config{Link: "vlan:layers-test", MAC: net.HardwareAddr{2, 0, 0, 0, 0x40, 1},
		InLoss: 1, OutDelay: delay.Spec{Delay: 30 * time.Millisecond}, PCAP: pcap})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(Config{Link: "vlan:layers-test", MAC: net.HardwareAddr{2, 0, 0, 0, 0x40, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if d := a.Describe(); !strings.Contains(d, `in-process virtual LAN "layers-test"`) || a.Tap() != nil {
		t.Fatalf("Describe() = %q", d)
	}
	// The capture sits on the link itself, under loss and delay.
	if _, ok := a.Link().(*delay.Endpoint); !ok {
		t.Fatalf("top layer is %T, want the delay layer", a.Link())
	}
	sa := lantest.Stack(t, "A", a.Link(), lantest.Addr(1))
	sb := lantest.Stack(t, "B", b.Link(), lantest.Addr(2))
	lantest.TCPEcho(t, sa, sb, lantest.Addr(2), 7301, 512<<10)
	lantest.UDPEcho(t, sb, sa, lantest.Addr(1), 7302)

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ln, err := sb.ListenTCP(netip.AddrPortFrom(netip.IPv4Unspecified(), 7303))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start = time.Now()
	c, err := sa.DialTCP(ctx, netip.AddrPortFrom(lantest.Addr(2), 7303))
	if err != nil {
		t.Fatal(err)
	}
	if rtt := time.Since(start); rtt < 30*time.Millisecond {
		t.Errorf("TCP handshake took %v through a 30 ms delay", rtt)
	}
	c.Close()

	// A raw frame (tapio_output) from b reaches a's side of the LAN.
	frame := append(append([]byte{2, 0, 0, 0, 0x40, 1}, 2, 0, 0, 0, 0x40, 2), 0x88, 0xb5, 1, 2, 3)
	if err := b.WriteFrame(frame); err != nil {
		t.Fatalf("WriteFrame: %v", err)
	}
	if err := b.WriteFrame([]byte{1, 2}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("WriteFrame(2 bytes) = %v, want EINVAL", err)
	}
	a.Close()
	b.Close()
	fi, err := os.Stat(pcap)
	if err != nil || fi.Size() < 24+100*16 {
		t.Fatalf("capture on the LAN: %v, %d bytes", err, fi.Size())
	}
}

// Open's errors name the settings C users set (GONETIF_*), never a Go
// field of the tap package.
func TestOpenErrorsNameSettings(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Name: "gnt-nosuch0"}, EnvTAP},
		{Config{Name: "lo", Device: "/nonexistent/tun"}, EnvDevice}, // lo exists: the clone device is what is missing
	} {
		_, err := Open(c.cfg)
		if err == nil {
			t.Fatalf("Open(%+v) worked", c.cfg)
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || strings.Contains(msg, "Options.") {
			t.Errorf("Open(%+v): %q: want %s named and no Go field", c.cfg, msg, c.want)
		}
	}
}

// TestUserLANSharesGateway: two drivers on user:NAME share one LAN and its
// gateway: distinct DHCP leases, both reach the host's loopback through
// 10.0.2.2, they reach each other, the first driver's forward reaches the
// first lease; a device asking for another network is refused; the
// gateway (its host port too) goes with the last device.
func TestUserLANSharesGateway(t *testing.T) {
	echo := lantest.HostEcho(t)
	t.Setenv(EnvLink, "user:gw-test")
	cfgA, err := FromEnv(Config{HostFwd: "tcp::0-:80"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfgB, _ := FromEnv(Config{}, 1)
	if cfgA.MAC.String() != vlanMAC(os.Getpid(), 0).String() || cfgB.MAC.String() != vlanMAC(os.Getpid(), 1).String() {
		t.Fatalf("MACs %v, %v: want one per device and process", cfgA.MAC, cfgB.MAC)
	}
	before := runtime.NumGoroutine()
	func() {
		a, err := Open(cfgA)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(cfgB)
		if err != nil {
			a.Close()
			t.Fatal(err)
		}
		if a.User() == nil || a.User() != b.User() {
			t.Fatalf("gateways %p, %p: want one, shared", a.User(), b.User())
		}
		if d := a.Describe(); !strings.Contains(d, `in-process virtual LAN "gw-test"`) || !strings.Contains(d, "gateway 10.0.2.2") {
			t.Fatalf("Describe() = %q", d)
		}
		if err := b.WriteFrame([]byte{1, 2}); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("a 2-byte raw frame onto the LAN: %v, want EINVAL", err)
		}
		if _, err := Open(Config{Link: "user:gw-test", UserNet: netip.MustParsePrefix("10.9.0.0/24")}); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("a second network on the LAN: %v, want EINVAL", err)
		}
		if _, err := Open(Config{Link: "user:gw-test", HostFwd: "tcp::0-:81"}); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("other forwards on the LAN: %v, want EINVAL", err)
		}
		// The network the gateway has, spelt out, is no conflict.
		c, err := Open(Config{Link: "user:gw-test", MAC: net.HardwareAddr{2, 0, 0, 0, 0x41, 3}, UserNet: netip.MustParsePrefix("10.0.2.0/24")})
		if err != nil {
			t.Fatalf("the gateway's own network: %v", err)
		}
		c.Close()
		sa, addrA := lantest.DHCPStack(t, "A", a.Link())
		sb, addrB := lantest.DHCPStack(t, "B", b.Link())
		if addrA.String() != "10.0.2.15" || addrB.String() != "10.0.2.16" {
			t.Fatalf("leases %v, %v", addrA, addrB)
		}
		to := netip.AddrPortFrom(netip.MustParseAddr("10.0.2.2"), uint16(echo.Addr().(*net.TCPAddr).Port))
		for _, s := range []*gonetif.Stack{sa, sb} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, err := s.DialTCP(ctx, to)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.Write([]byte("ping"))
			got := make([]byte, 4)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
				t.Fatalf("echo via the gateway: %q, %v", got, err)
			}
			c.Close()
		}
		lantest.TCPEcho(t, sa, sb, addrB, 7401, 256<<10)

		fwd := a.User().HostAddr(0)
		ln, err := sa.ListenTCP(netip.AddrPortFrom(netip.IPv4Unspecified(), 80))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			if c, err := ln.Accept(); err == nil {
				c.Write([]byte("A"))
				c.Close()
			}
		}()
		hc, err := net.DialTimeout("tcp4", fwd.String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		hc.SetDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(hc)
		hc.Close()
		ln.Close()
		if err != nil || string(got) != "A" {
			t.Fatalf("forward %v: %q, %v", fwd, got, err)
		}
		sa.Close()
		if c, err := net.DialTimeout("tcp4", fwd.String(), time.Second); err != nil {
			t.Fatalf("forward gone while device B is still on the LAN: %v", err)
		} else {
			c.Close()
		}
		sb.Close()
		if c, err := net.DialTimeout("tcp4", fwd.String(), time.Second); err == nil {
			c.Close()
			t.Fatalf("forward %v still open after the last device left", fwd)
		}
		// A new first device starts a new gateway on the freed host port.
		d, err := Open(Config{Link: "user:gw-test", HostFwd: "tcp:" + fwd.String() + "-:80"})
		if err != nil {
			t.Fatalf("a new gateway on the freed port %v: %v", fwd, err)
		}
		d.Close()
	}()
	lantest.NoLeak(t, before)
}

// isVLANName accepts what the pattern ^[A-Za-z0-9_-]+$ did, and nothing
// else (every byte value, alone and inside a good name).
func TestVLANNameCharacters(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		for _, s := range []string{string([]byte{byte(c)}), "lan" + string([]byte{byte(c)}) + "0"} {
			if got := isVLANName(s); got != want {
				t.Errorf("isVLANName(%q) = %v, want %v", s, got, want)
			}
		}
	}
	if isVLANName("") {
		t.Error("the empty name is accepted")
	}
	if !isVLANName("Lab_2-b") {
		t.Error("Lab_2-b is refused")
	}
}
