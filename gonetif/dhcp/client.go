package dhcp

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Config sets up a client. Callbacks run on the client's goroutine, one at
// a time, and must not call Stop.
type Config struct {
	MAC         net.HardwareAddr
	Hostname    string
	VendorClass string
	// Requested is an address to ask for first (option 50), may be zero.
	Requested netip.Addr
	// RetryBase is the first retransmission delay, doubled up to 8 times
	// it; 0 means 1 s.
	RetryBase time.Duration

	Bound func(Lease) // a new lease, or a renewal that changed it
	Lost  func()      // the lease expired or was refused (NAK)
	Logf  func(format string, args ...any)
}

// Transport carries DHCP messages for one interface.
type Transport interface {
	// Send sends to port 67 of dst (the broadcast address or a server).
	Send(msg []byte, dst netip.Addr) error
	// Recv reads one datagram from port 68, waiting until deadline.
	Recv(buf []byte, deadline time.Time) (int, error)
	// Unaddressed makes the interface able (true) or no longer able
	// (false) to send from 0.0.0.0 while it has no address.
	Unaddressed(on bool)
	Close()
}

// State is where the client is in RFC 2131's state diagram.
type State int

// Client states.
const (
	StateInit State = iota
	StateRequesting
	StateBound
	StateRenewing
	StateRebinding
	StateStopped
)

// Client is one running DHCP client.
type Client struct {
	cfg  Config
	tr   Transport
	stop chan struct{}
	done chan struct{}

	mu    sync.Mutex
	state State
	lease *Lease
	ack   *dhcpv4.DHCPv4
}

var broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// Start runs a client on tr until Stop.
func Start(cfg Config, tr Transport) (*Client, error) {
	if len(cfg.MAC) != 6 {
		return nil, errors.New("dhcp: need a 6-byte MAC")
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	c := &Client{cfg: cfg, tr: tr, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// Stop ends the client; with release and a lease it sends DHCPRELEASE.
func (c *Client) Stop(release bool) {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	<-c.done
	c.mu.Lock()
	ack, lease := c.ack, c.lease
	c.state, c.lease, c.ack = StateStopped, nil, nil
	c.mu.Unlock()
	if release && ack != nil && lease != nil {
		if m, err := dhcpv4.NewReleaseFromACK(ack); err == nil {
			c.cfg.Logf("releasing %v to %v", lease.IP, lease.Server)
			_ = c.tr.Send(m.ToBytes(), lease.Server)
		}
	}
	c.tr.Unaddressed(false)
	c.tr.Close()
}

// Lease returns the current lease.
func (c *Client) Lease() (Lease, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lease == nil {
		return Lease{}, false
	}
	return *c.lease, true
}

// State returns the current state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *Client) setState(s State) {
	c.mu.Lock()
	c.state = s
	c.mu.Unlock()
}

func (c *Client) stopped() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// sleepUntil waits until t or Stop; false when stopped.
func (c *Client) sleepUntil(t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-c.stop:
		return false
	case <-timer.C:
		return true
	}
}

func (c *Client) options() []dhcpv4.Modifier {
	mods := []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptParameterRequestList(
			dhcpv4.OptionSubnetMask, dhcpv4.OptionRouter, dhcpv4.OptionDomainNameServer,
			dhcpv4.OptionDomainName, dhcpv4.OptionBroadcastAddress, dhcpv4.OptionIPAddressLeaseTime,
			dhcpv4.OptionRenewTimeValue, dhcpv4.OptionRebindingTimeValue)),
		dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(1500)),
	}
	if c.cfg.Hostname != "" {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptHostName(c.cfg.Hostname)))
	}
	if c.cfg.VendorClass != "" {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptClassIdentifier(c.cfg.VendorClass)))
	}
	return mods
}

// exchange sends msg to dst and waits for a reply of one of the wanted
// types, retransmitting with backoff until deadline. nil on timeout/stop.
func (c *Client) exchange(msg *dhcpv4.DHCPv4, dst netip.Addr, deadline time.Time, want ...dhcpv4.MessageType) *dhcpv4.DHCPv4 {
	buf := make([]byte, 1500)
	wait := c.cfg.RetryBase
	for !c.stopped() && time.Now().Before(deadline) {
		if err := c.tr.Send(msg.ToBytes(), dst); err != nil {
			c.cfg.Logf("send %s: %v", msg.MessageType(), err)
		}
		next := time.Now().Add(wait)
		if next.After(deadline) {
			next = deadline
		}
		wait = min(wait*2, c.cfg.RetryBase*8)
		for !c.stopped() && time.Now().Before(next) {
			// Short reads so Stop is noticed quickly.
			n, err := c.tr.Recv(buf, minTime(next, time.Now().Add(200*time.Millisecond)))
			if err != nil || n == 0 {
				continue
			}
			m, err := Parse(buf[:n], c.cfg.MAC, msg.TransactionID)
			if err != nil {
				continue
			}
			if slices.Contains(want, m.MessageType()) {
				return m
			}
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (c *Client) run() {
	defer close(c.done)
	requested := c.cfg.Requested
	for !c.stopped() {
		c.setState(StateInit)
		c.tr.Unaddressed(true)
		ack, sent := c.acquire(requested)
		if ack == nil {
			continue
		}
		requested = netip.Addr{}
		for ack != nil && !c.stopped() {
			ack, sent = c.bound(ack, sent)
		}
		// Lost: back to INIT (the address stays requested next time).
	}
}

// acquire runs DISCOVER → OFFER → REQUEST → ACK; returns the ACK and when
// its REQUEST was sent, or nil to start over.
func (c *Client) acquire(requested netip.Addr) (*dhcpv4.DHCPv4, time.Time) {
	mods := append(c.options(), dhcpv4.WithBroadcast(true))
	if requested.Is4() {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(requested.AsSlice())))
	}
	disc, err := dhcpv4.NewDiscovery(c.cfg.MAC, mods...)
	if err != nil {
		c.cfg.Logf("discover: %v", err)
		c.sleepUntil(time.Now().Add(c.cfg.RetryBase))
		return nil, time.Time{}
	}
	var offer *dhcpv4.DHCPv4
	for offer == nil {
		offer = c.exchange(disc, broadcast, time.Now().Add(c.cfg.RetryBase*60), dhcpv4.MessageTypeOffer)
		if c.stopped() {
			return nil, time.Time{}
		}
		if offer == nil {
			continue
		}
		if _, err := leaseFrom(offer); err != nil {
			c.cfg.Logf("ignoring offer from %v: %v", offer.ServerIPAddr, err)
			offer = nil
			c.sleepUntil(time.Now().Add(c.cfg.RetryBase))
			if c.stopped() {
				return nil, time.Time{}
			}
		}
	}
	c.setState(StateRequesting)
	req, err := dhcpv4.NewRequestFromOffer(offer, append(c.options(), dhcpv4.WithBroadcast(true))...)
	if err != nil {
		return nil, time.Time{}
	}
	sent := time.Now()
	reply := c.exchange(req, broadcast, sent.Add(c.cfg.RetryBase*15), dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak)
	if reply == nil || reply.MessageType() == dhcpv4.MessageTypeNak {
		if reply != nil {
			c.cfg.Logf("request NAKed: %s", reply.Message())
		}
		c.sleepUntil(time.Now().Add(c.cfg.RetryBase))
		return nil, time.Time{}
	}
	if _, err := leaseFrom(reply); err != nil {
		c.cfg.Logf("ignoring ACK: %v", err)
		c.sleepUntil(time.Now().Add(c.cfg.RetryBase))
		return nil, time.Time{}
	}
	return reply, sent
}

// bound installs the lease of ack (granted at sent), waits for T1, renews,
// rebinds; returns the next ACK, or nil once the lease is lost.
func (c *Client) bound(ack *dhcpv4.DHCPv4, sent time.Time) (*dhcpv4.DHCPv4, time.Time) {
	lease, _ := leaseFrom(ack)
	c.mu.Lock()
	prev := c.lease
	c.lease, c.ack, c.state = &lease, ack, StateBound
	c.mu.Unlock()
	if prev == nil || !sameLease(*prev, lease) {
		c.tr.Unaddressed(false)
		c.cfg.Logf("bound to %v/%v gw %v dns %v for %v", lease.IP, lease.Netmask, lease.Router, lease.DNS, lease.Duration)
		if c.cfg.Bound != nil {
			c.cfg.Bound(lease)
		}
	}
	t1, t2, end := sent.Add(lease.T1), sent.Add(lease.T2), sent.Add(lease.Duration)
	if !c.sleepUntil(t1) {
		return nil, time.Time{}
	}
	c.cfg.Logf("renewing %v with %v", lease.IP, lease.Server)
	renew := func(dst netip.Addr, until time.Time) (*dhcpv4.DHCPv4, time.Time) {
		xid, err := dhcpv4.GenerateTransactionID()
		if err != nil {
			return nil, time.Time{}
		}
		req, err := dhcpv4.NewRenewFromAck(ack, append(c.options(), dhcpv4.WithTransactionID(xid))...)
		if err != nil {
			return nil, time.Time{}
		}
		for !c.stopped() && time.Now().Before(until) {
			at := time.Now()
			// RFC 2131 4.4.5: retry after half the remaining time, here
			// at least a second so short test leases still get retries.
			wait := max(time.Until(until)/2, time.Second)
			reply := c.exchange(req, dst, minTime(at.Add(wait), until), dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak)
			if reply == nil {
				continue
			}
			return reply, at
		}
		return nil, time.Time{}
	}
	c.setState(StateRenewing)
	reply, at := renew(lease.Server, t2)
	if reply == nil && !c.stopped() {
		c.cfg.Logf("no answer to renewal of %v, rebinding", lease.IP)
		c.setState(StateRebinding)
		reply, at = renew(broadcast, end)
	}
	if c.stopped() {
		return nil, time.Time{}
	}
	if reply != nil && reply.MessageType() == dhcpv4.MessageTypeAck {
		if _, err := leaseFrom(reply); err == nil {
			return reply, at
		}
	}
	if reply != nil {
		c.cfg.Logf("lease of %v refused (NAK): %s", lease.IP, reply.Message())
	} else {
		c.cfg.Logf("lease of %v expired", lease.IP)
	}
	c.mu.Lock()
	c.lease, c.ack = nil, nil
	c.mu.Unlock()
	if c.cfg.Lost != nil {
		c.cfg.Lost()
	}
	return nil, time.Time{}
}

func sameLease(a, b Lease) bool {
	return a.IP == b.IP && a.Netmask == b.Netmask && a.Router == b.Router && slices.Equal(a.DNS, b.DNS)
}
