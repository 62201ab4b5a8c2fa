package dhcp

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

var testMAC = net.HardwareAddr{2, 0, 0, 0, 0, 1}

// fakeServer answers the client's messages in memory through answer.
type fakeServer struct {
	mu     sync.Mutex
	in     chan []byte
	answer func(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4
	sent   []dhcpv4.MessageType
	unaddr bool
}

func newFake(answer func(*dhcpv4.DHCPv4) *dhcpv4.DHCPv4) *fakeServer {
	return &fakeServer{in: make(chan []byte, 16), answer: answer}
}

func (f *fakeServer) Send(msg []byte, dst netip.Addr) error {
	req, err := dhcpv4.FromBytes(msg)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.sent = append(f.sent, req.MessageType())
	f.mu.Unlock()
	if rep := f.answer(req); rep != nil {
		f.in <- rep.ToBytes()
	}
	return nil
}

func (f *fakeServer) Recv(buf []byte, deadline time.Time) (int, error) {
	select {
	case b := <-f.in:
		return copy(buf, b), nil
	case <-time.After(time.Until(deadline)):
		return 0, nil
	}
}

func (f *fakeServer) Unaddressed(on bool) {
	f.mu.Lock()
	f.unaddr = on
	f.mu.Unlock()
}

func (f *fakeServer) Close() {}

func (f *fakeServer) count(t dhcpv4.MessageType) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.sent {
		if s == t {
			n++
		}
	}
	return n
}

var srvIP = net.IPv4(10, 0, 0, 1)

// reply builds the server's answer to req with the given type and options.
func reply(req *dhcpv4.DHCPv4, t dhcpv4.MessageType, yi net.IP, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	m, _ := dhcpv4.NewReplyFromRequest(req, append([]dhcpv4.Modifier{
		dhcpv4.WithMessageType(t), dhcpv4.WithYourIP(yi),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(srvIP)),
	}, mods...)...)
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// A zero-lease offer is ignored; the next (sane, netmask 0) one is taken
// and its mask replaced by the classful default.
func TestNonsenseOffers(t *testing.T) {
	offers := 0
	f := newFake(func(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
		switch req.MessageType() {
		case dhcpv4.MessageTypeDiscover:
			offers++
			if offers == 1 {
				return reply(req, dhcpv4.MessageTypeOffer, net.IPv4(10, 0, 0, 9), dhcpv4.WithLeaseTime(0))
			}
			return reply(req, dhcpv4.MessageTypeOffer, net.IPv4(10, 0, 0, 7), dhcpv4.WithLeaseTime(60),
				dhcpv4.WithNetmask(net.IPv4Mask(0, 0, 0, 0)))
		case dhcpv4.MessageTypeRequest:
			return reply(req, dhcpv4.MessageTypeAck, net.IPv4(10, 0, 0, 7), dhcpv4.WithLeaseTime(60),
				dhcpv4.WithNetmask(net.IPv4Mask(0, 0, 0, 0)),
				dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(10, 0, 0, 1))),
				dhcpv4.WithOption(dhcpv4.OptDNS(net.IPv4(10, 0, 0, 53))))
		}
		return nil
	})
	var mu sync.Mutex
	var bound []Lease
	c, err := Start(Config{MAC: testMAC, Hostname: "dev", RetryBase: 20 * time.Millisecond,
		Bound: func(l Lease) { mu.Lock(); bound = append(bound, l); mu.Unlock() }}, f)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(false)
	waitFor(t, "bound", func() bool { mu.Lock(); defer mu.Unlock(); return len(bound) > 0 })
	mu.Lock()
	l := bound[0]
	mu.Unlock()
	if l.IP != netip.MustParseAddr("10.0.0.7") || l.Netmask != netip.MustParseAddr("255.0.0.0") ||
		l.Router != netip.MustParseAddr("10.0.0.1") || len(l.DNS) != 1 || l.Duration != time.Minute {
		t.Fatalf("lease %+v", l)
	}
	if l.T1 != 30*time.Second || l.T2 != 52500*time.Millisecond {
		t.Fatalf("T1 %v T2 %v", l.T1, l.T2)
	}
	if f.count(dhcpv4.MessageTypeDiscover) < 2 {
		t.Fatal("zero-lease offer was accepted")
	}
}

// A NAK during renewal loses the lease and restarts discovery; Stop with
// release sends DHCPRELEASE.
func TestNakThenRelease(t *testing.T) {
	acks := 0
	f := newFake(func(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
		switch req.MessageType() {
		case dhcpv4.MessageTypeDiscover:
			return reply(req, dhcpv4.MessageTypeOffer, net.IPv4(10, 0, 0, 7), dhcpv4.WithLeaseTime(4),
				dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(50*time.Millisecond)))
		case dhcpv4.MessageTypeRequest:
			acks++
			if acks == 2 { // the first renewal
				return reply(req, dhcpv4.MessageTypeNak, net.IPv4zero)
			}
			return reply(req, dhcpv4.MessageTypeAck, net.IPv4(10, 0, 0, 7), dhcpv4.WithLeaseTime(4),
				dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(time.Hour)))
		}
		return nil
	})
	var mu sync.Mutex
	var boundN, lostN int
	c, _ := Start(Config{MAC: testMAC, RetryBase: 20 * time.Millisecond,
		Bound: func(Lease) { mu.Lock(); boundN++; mu.Unlock() },
		Lost:  func() { mu.Lock(); lostN++; mu.Unlock() }}, f)
	waitFor(t, "rebound after NAK", func() bool { mu.Lock(); defer mu.Unlock(); return boundN == 2 && lostN == 1 })
	c.Stop(true)
	if f.count(dhcpv4.MessageTypeRelease) != 1 {
		t.Fatal("no DHCPRELEASE on stop")
	}
	if c.State() != StateStopped {
		t.Fatal("not stopped")
	}
}

func TestLeaseFromRejects(t *testing.T) {
	req, _ := dhcpv4.NewDiscovery(testMAC)
	cases := map[string]*dhcpv4.DHCPv4{
		"zero yiaddr": reply(req, dhcpv4.MessageTypeOffer, net.IPv4zero, dhcpv4.WithLeaseTime(60)),
		"broadcast":   reply(req, dhcpv4.MessageTypeOffer, net.IPv4bcast, dhcpv4.WithLeaseTime(60)),
		"no lease":    reply(req, dhcpv4.MessageTypeOffer, net.IPv4(10, 0, 0, 2)),
		"1s lease":    reply(req, dhcpv4.MessageTypeOffer, net.IPv4(10, 0, 0, 2), dhcpv4.WithLeaseTime(1)),
	}
	noSID := reply(req, dhcpv4.MessageTypeOffer, net.IPv4(10, 0, 0, 2), dhcpv4.WithLeaseTime(60))
	noSID.Options.Del(dhcpv4.OptionServerIdentifier)
	cases["no server id"] = noSID
	for name, m := range cases {
		if _, err := leaseFrom(m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
