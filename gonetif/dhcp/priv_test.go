package dhcp_test

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/internal/netnstest"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
	"gonetif.dev/gonetif/tapio"
)

// events collects netif events for assertions.
type events struct {
	mu  sync.Mutex
	all []netif.Event
}

func (e *events) add(ev netif.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *events) count(k netif.EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

func (e *events) last(k netif.EventKind) netif.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.all) - 1; i >= 0; i-- {
		if e.all[i].Kind == k {
			return e.all[i]
		}
	}
	return netif.Event{}
}

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv(netnstest.EnvRequire) == "1" {
			t.Fatalf("%s not installed but %s=1", name, netnstest.EnvRequire)
		}
		t.Skipf("needs %s (apt-get install dnsmasq)", name)
	}
}

// startDnsmasq runs a DHCP-only dnsmasq on tap in ns with extra config lines.
func startDnsmasq(t *testing.T, ns *netnstest.NS, dir, tap string, lines ...string) *exec.Cmd {
	t.Helper()
	conf := filepath.Join(dir, "dnsmasq.conf")
	body := fmt.Sprintf("interface=%s\nbind-interfaces\nport=0\nlog-dhcp\ndhcp-leasefile=%s\n%s\n",
		tap, filepath.Join(dir, "leases"), strings.Join(lines, "\n"))
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return ns.Start(t, "dnsmasq", "-d", "-C", conf, "--pid-file="+filepath.Join(dir, "pid"))
}

type rig struct {
	ns  *netnstest.NS
	s   *gonetif.Stack
	n   *netif.Netif
	ev  *events
	dir string
}

func newRig(t *testing.T, hostCIDR string) *rig {
	netnstest.Require(t)
	needTool(t, "dnsmasq")
	ns := netnstest.New(t)
	ns.AddTap(t, "gnt0", hostCIDR, -1)
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ev := &events{}
	s.Netifs.OnEvent(ev.add)
	s.Netifs.OnLog(func(l string) { t.Log(l) })
	d, err := tapio.Open(tapio.Config{Name: "gnt0", NetNS: ns.Path})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Netifs.New(netif.Config{Key: "TAP", Flags: netif.FlagDHCPClient | netif.FlagAutoUp,
		GotIPEvent: 0x1234, LostIPEvent: 0x1235, RoutePrio: 100})
	if err != nil {
		t.Fatal(err)
	}
	_ = n.SetHostname("gntdev")
	if err := n.Attach(d.Link()); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	return &rig{ns: ns, s: s, n: n, ev: ev, dir: t.TempDir()}
}

func (r *rig) waitEvents(t *testing.T, k netif.EventKind, want int, d time.Duration) {
	t.Helper()
	if !netnstest.WaitFor(d, 20*time.Millisecond, func() bool { return r.ev.count(k) >= want }) {
		t.Fatalf("after %v: %d %s events, want %d", d, r.ev.count(k), k, want)
	}
}

func TestDnsmasqLeaseRenewRelease(t *testing.T) {
	r := newRig(t, "10.66.0.1/24")
	srv := startDnsmasq(t, r.ns, r.dir, "gnt0",
		"dhcp-range=10.66.0.50,10.66.0.60,255.255.255.0,2m",
		"dhcp-option=option:router,10.66.0.1",
		"dhcp-option=option:dns-server,10.66.0.1,10.66.0.2",
		"dhcp-option=option:T1,2", "dhcp-option=option:T2,3")
	if err := r.n.Connected(); err != nil {
		t.Fatal(err)
	}
	r.waitEvents(t, netif.EventGotIP, 1, 10*time.Second)
	got := r.ev.last(netif.EventGotIP)
	ip := got.IPInfo.IP.As4()
	if ip[0] != 10 || ip[1] != 66 || ip[2] != 0 || ip[3] < 50 || ip[3] > 60 {
		t.Fatalf("address %v not in range", got.IPInfo.IP)
	}
	if got.IPInfo.Gateway != netip.MustParseAddr("10.66.0.1") || got.IPInfo.Netmask != netip.MustParseAddr("255.255.255.0") || !got.Changed {
		t.Fatalf("bad event %+v", got)
	}
	if dns := r.s.Netifs.DNSServers(); len(dns) != 2 || dns[0] != netip.MustParseAddr("10.66.0.1") {
		t.Fatalf("DNS %v", dns)
	}
	if out, err := r.ns.Run("ping", "-c", "1", "-W", "2", got.IPInfo.IP.String()); err != nil {
		t.Logf("addrs %v", r.s.Gvisor().AllAddresses())
		o2, _ := r.ns.Run("ip", "neigh")
		t.Logf("neigh %s", o2)
		t.Fatalf("no ping to leased address: %v\n%s", err, out)
	}
	// Two renewals at T1 = 2 s, no new event.
	if !netnstest.WaitFor(7*time.Second, 100*time.Millisecond, func() bool {
		return strings.Count(r.ns.Output(srv), "DHCPACK") >= 3
	}) {
		t.Fatalf("no renewals:\n%s", r.ns.Output(srv))
	}
	if n := r.ev.count(netif.EventGotIP); n != 1 {
		t.Fatalf("%d got-ip events, want 1", n)
	}
	if err := r.n.DHCPStop(); err != nil {
		t.Fatal(err)
	}
	if !netnstest.WaitFor(5*time.Second, 50*time.Millisecond, func() bool {
		return strings.Contains(r.ns.Output(srv), "DHCPRELEASE")
	}) {
		t.Fatalf("server saw no release:\n%s", r.ns.Output(srv))
	}
	if r.n.IPInfo().HasIP() {
		t.Fatal("address kept after stop")
	}
}
