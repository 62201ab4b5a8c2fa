// Package usernet is a user-mode network for one device: its link is
// joined in memory to a private gVisor stack that plays the gateway, so the
// device needs no TAP, no root and no /dev/net/tun. The gateway turns the
// device's outbound TCP and UDP flows into ordinary host sockets (its own
// address stands for the host's loopback), leases addresses by DHCP,
// answers DNS from the host's resolver and ping, and forwards host ports
// into the device (QEMU's hostfwd).
package usernet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/link/pair"
)

// Options configure a Network. The zero value is QEMU's user network:
// 10.0.2.0/24, gateway 10.0.2.2, DNS 10.0.2.3, leases from 10.0.2.15.
type Options struct {
	// Net is the virtual network. Zero: 10.0.2.0/24.
	Net netip.Prefix
	// Gateway is the router's address; connections to it reach the host's
	// loopback (127.0.0.1). Zero: the network's .2.
	Gateway netip.Addr
	// DNS is the resolver's address, answered from the host's resolver.
	// Zero: the network's .3.
	DNS netip.Addr
	// DHCPStart is the first address leased; DHCPCount how many (zero:
	// 16). Zero start: the network's .15. Port forwards with no device
	// address go to DHCPStart.
	DHCPStart netip.Addr
	DHCPCount int
	// LeaseTime is the DHCP lease. Zero: 24 h.
	LeaseTime time.Duration
	// HostForwards are the inbound port forwards (see ParseHostForwards).
	HostForwards []HostForward
	// MAC is the device's address. Nil: 02:12:34:56:78:ab.
	MAC net.HardwareAddr
	// MTU is the IP MTU of the virtual link. Zero: 1500.
	MTU uint32
	// DialTimeout bounds an outbound connect on the host. Zero: 10 s.
	DialTimeout time.Duration
	// UDPIdleTimeout closes a UDP flow with no traffic either way. Zero: 60 s.
	UDPIdleTimeout time.Duration
	// Dial opens host connections for outbound flows (network "tcp4" or
	// "udp4"). Nil: a net.Dialer. Tests and policies (allow lists) hook it.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Resolver answers the DNS address. Nil: net.DefaultResolver.
	Resolver *net.Resolver
	// OnError receives the typed errors of the running network (dial
	// failures, an exhausted DHCP pool, refused port forwards), for logs.
	OnError func(error)
	// GatewayLink, if set, is the gateway's own link (a port of a virtual
	// LAN, so several devices share the gateway) instead of a private
	// cable to one device; Link and DeviceEndpoint are then nil, and MAC
	// is unused. On it the gateway takes only what a router would (frames
	// to its MAC or broadcast, ARP and IP for its own addresses or off the
	// network), so the devices on the LAN still talk to each other.
	// GatewayMAC suits the port.
	GatewayLink stack.LinkEndpoint
}

// SetNet sets Net to p; a host address in p (192.168.5.1/24) also names
// the gateway, so a device set up statically as 192.168.5.100 via .1
// works unchanged.
func (o *Options) SetNet(p netip.Prefix) {
	o.Net = p
	if p.IsValid() && p.Addr() != p.Masked().Addr() {
		o.Gateway = p.Addr()
	}
}

// Errors; each reaches OnError or a caller wrapped in *Error.
var (
	ErrBadOptions     = errors.New("invalid user-mode network options")
	ErrBadHostForward = errors.New("invalid port forward")
	ErrHostPortInUse  = errors.New("host port already in use")
	ErrPoolExhausted  = errors.New("DHCP address pool exhausted")
	ErrDialFailed     = errors.New("outbound connection failed")
	ErrForwardFailed  = errors.New("port forward into the device failed")
	ErrClosed         = errors.New("user-mode network closed")
)

// Error is a usernet failure: Kind is one of the Err* values above, Err
// the cause (a syscall errno where there is one).
type Error struct {
	Kind   error
	Detail string
	Err    error
}

func (e *Error) Error() string {
	s := "usernet: " + e.Kind.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap lets errors.Is match both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// DefaultMAC is the device's MAC when Options.MAC is nil (tapif_io's).
var DefaultMAC = net.HardwareAddr{0x02, 0x12, 0x34, 0x56, 0x78, 0xab}

// GatewayMAC is the router's MAC on its private cable, QEMU-style; a
// GatewayLink port may take it too.
const GatewayMAC = tcpip.LinkAddress("\x52\x55\x0a\x00\x02\x02")

const gatewayNIC tcpip.NICID = 1

// Network is one running user-mode network with its device link.
type Network struct {
	opts   Options
	s      *stack.Stack
	pair   *pair.Pair         // nil with Options.GatewayLink
	gwLink stack.LinkEndpoint // the gateway NIC's link
	dev    *deviceLink

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	dhcp      *dhcpServer
	fwdAddrs  hostAddrs
	closers   []func()
	closeOnce sync.Once

	spawnMu sync.Mutex // orders wg.Add against Close's wg.Wait
	closing bool

	udpFlows  atomic.Int32
	inTransit atomic.Int64 // bytes relays have read and not yet written on
}

// withDefaults fills zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	bad := func(format string, args ...any) (Options, error) {
		return o, &Error{Kind: ErrBadOptions, Detail: fmt.Sprintf(format, args...)}
	}
	if !o.Net.IsValid() {
		o.Net = netip.MustParsePrefix("10.0.2.0/24")
	}
	o.Net = o.Net.Masked()
	if !o.Net.Addr().Is4() || o.Net.Bits() > 29 || o.Net.Bits() < 8 {
		return bad("network %s: want IPv4 with a prefix of /8 to /29", o.Net)
	}
	nth := func(n int) netip.Addr {
		a := o.Net.Addr()
		for range n {
			a = a.Next()
		}
		return a
	}
	if !o.Gateway.IsValid() {
		o.Gateway = nth(2)
	}
	if !o.DNS.IsValid() {
		o.DNS = nth(3)
	}
	if !o.DHCPStart.IsValid() {
		o.DHCPStart = nth(15)
	}
	if o.DHCPCount == 0 {
		o.DHCPCount = 16
	}
	last := lastHost(o.Net)
	for name, a := range map[string]netip.Addr{"gateway": o.Gateway, "DNS": o.DNS, "DHCP start": o.DHCPStart} {
		if !o.Net.Contains(a) || a == o.Net.Addr() || a.Compare(last) > 0 {
			return bad("%s address %s is not a host of %s", name, a, o.Net)
		}
	}
	if o.Gateway == o.DNS {
		return bad("gateway and DNS share the address %s", o.Gateway)
	}
	if o.DHCPCount < 0 {
		return bad("DHCP count %d", o.DHCPCount)
	}
	pool := o.DHCPStart
	for i := 0; i < o.DHCPCount; i++ {
		if pool.Compare(last) > 0 {
			return bad("DHCP pool of %d from %s leaves %s", o.DHCPCount, o.DHCPStart, o.Net)
		}
		if pool == o.Gateway || pool == o.DNS {
			return bad("DHCP pool of %d from %s holds the address %s of the gateway or DNS", o.DHCPCount, o.DHCPStart, pool)
		}
		pool = pool.Next()
	}
	if o.LeaseTime == 0 {
		o.LeaseTime = 24 * time.Hour
	}
	if o.LeaseTime < time.Minute {
		return bad("lease time %v is below a minute", o.LeaseTime)
	}
	if o.MAC == nil {
		o.MAC = DefaultMAC
	}
	if len(o.MAC) != 6 {
		return bad("MAC %s must have 6 bytes", o.MAC)
	}
	if o.MTU == 0 {
		o.MTU = 1500
	}
	if o.MTU < 576 || o.MTU > 65000 {
		return bad("MTU %d: want 576..65000", o.MTU)
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.UDPIdleTimeout <= 0 {
		o.UDPIdleTimeout = 60 * time.Second
	}
	if o.Dial == nil {
		d := &net.Dialer{}
		o.Dial = d.DialContext
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	for i := range o.HostForwards {
		f := &o.HostForwards[i]
		if !f.DeviceAddr.IsValid() {
			f.DeviceAddr = o.DHCPStart
		}
		if !o.Net.Contains(f.DeviceAddr) {
			return bad("port forward %s: device address %s is outside %s", f, f.DeviceAddr, o.Net)
		}
	}
	return o, nil
}

func lastHost(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
	v-- // the broadcast address is not a host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// New starts a user-mode network: the gateway stack, its DHCP and DNS
// servers and the port forwards. A port forward whose host port is taken
// fails here with ErrHostPortInUse.
func New(opts Options) (*Network, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	n := &Network{opts: opts}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.s = stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
	})
	// The gateway is the active closer whenever the host closes first. A
	// TIME_WAIT here would swallow the device's next SYN on the same
	// ports (gVisor reuses a TIME_WAIT tuple only for a listener, and the
	// forwarder is none), and the host's kernel keeps its own TIME_WAIT
	// for the real connection: none here.
	sack := tcpip.TCPSACKEnabled(true)
	timeWait := tcpip.TCPTimeWaitTimeoutOption(0)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	sendRange := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 4 << 20}
	recvRange := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 4 << 20}
	for _, opt := range []tcpip.SettableTransportProtocolOption{&sack, &timeWait, &moderate, &sendRange, &recvRange} {
		if e := n.s.SetTransportProtocolOption(tcp.ProtocolNumber, opt); e != nil {
			n.s.Close()
			return nil, &Error{Kind: ErrBadOptions, Detail: "gateway TCP option", Err: errors.New(e.String())}
		}
	}
	if opts.GatewayLink != nil {
		n.gwLink = newLANFilter(opts.GatewayLink, opts)
	} else {
		n.pair = pair.New(tcpip.LinkAddress(opts.MAC), GatewayMAC, opts.MTU)
		n.dev = &deviceLink{Endpoint: n.pair.A, net: n}
		n.gwLink = n.pair.B
	}
	if err := n.setUp(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Network) setUp() error {
	fail := func(op string, e tcpip.Error) error {
		return &Error{Kind: ErrBadOptions, Detail: op, Err: errors.New(e.String())}
	}
	if e := n.s.CreateNIC(gatewayNIC, n.gwLink); e != nil {
		return fail("create the gateway NIC", e)
	}
	// Promiscuous + spoofing: the gateway takes packets for any address
	// and answers from it, which is what lets the forwarders stand in for
	// every host the device talks to.
	if e := n.s.SetPromiscuousMode(gatewayNIC, true); e != nil {
		return fail("promiscuous mode", e)
	}
	if e := n.s.SetSpoofing(gatewayNIC, true); e != nil {
		return fail("spoofing", e)
	}
	for _, a := range []netip.Addr{n.opts.Gateway, n.opts.DNS} {
		pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{
			Address: addrOf(a), PrefixLen: n.opts.Net.Bits()}}
		if e := n.s.AddProtocolAddress(gatewayNIC, pa, stack.AddressProperties{}); e != nil {
			return fail("address "+a.String(), e)
		}
	}
	subnet, _ := tcpip.NewSubnet(addrOf(n.opts.Net.Addr()), tcpip.MaskFromBytes(net.CIDRMask(n.opts.Net.Bits(), 32)))
	n.s.SetRouteTable([]tcpip.Route{{Destination: subnet, NIC: gatewayNIC}})

	tcpFwd := tcp.NewForwarder(n.s, 0, 1024, n.forwardTCP)
	n.s.SetTransportProtocolHandler(tcp.ProtocolNumber, tcpFwd.HandlePacket)
	udpFwd := udp.NewForwarder(n.s, n.forwardUDP)
	n.s.SetTransportProtocolHandler(udp.ProtocolNumber, udpFwd.HandlePacket)

	var err error
	if n.dhcp, err = startDHCP(n); err != nil {
		return err
	}
	if err := startDNS(n); err != nil {
		return err
	}
	for _, f := range n.opts.HostForwards {
		if err := n.startHostForward(f); err != nil {
			return err
		}
	}
	return nil
}

// Link is the device's end of the virtual cable, to attach to the
// device's interface. Closing it (the interface stopping) closes the
// network.
func (n *Network) Link() stack.LinkEndpoint {
	if n.dev == nil {
		return nil
	}
	return n.dev
}

// DeviceEndpoint is Link's underlying endpoint (its frame counters).
func (n *Network) DeviceEndpoint() *driver.Endpoint {
	if n.pair == nil {
		return nil
	}
	return n.pair.A
}

// InjectFrame hands one raw Ethernet frame from the device to the gateway,
// bypassing the device's stack (tapio_output).
func (n *Network) InjectFrame(frame []byte) error {
	if n.ctx.Err() != nil {
		return &Error{Kind: ErrClosed}
	}
	if n.pair == nil {
		return &Error{Kind: ErrBadOptions, Detail: "no device cable: the gateway is on Options.GatewayLink"}
	}
	if !n.pair.B.Receive(frame) {
		return &Error{Kind: ErrBadOptions, Detail: fmt.Sprintf("frame of %d bytes dropped", len(frame))}
	}
	return nil
}

// Flush waits, up to timeout, until the frames on the cable have reached
// the gateway and the relays have written on what they read: a process
// about to exit calls it so that its last datagrams and bytes reach the
// host, as a TAP write would have. It reports whether all was quiet.
func (n *Network) Flush(timeout time.Duration) bool {
	const poll, quietPolls = 2 * time.Millisecond, 5
	end := time.Now().Add(timeout)
	for quiet := 0; quiet < quietPolls; {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(poll)
		if n.inTransit.Load() == 0 && (n.pair == nil || n.pair.Pending() == 0) {
			quiet++ // a few quiet polls: the gateway's readers wake asynchronously
		} else {
			quiet = 0
		}
	}
	return true
}

// Options returns the options in effect, defaults filled in.
func (n *Network) Options() Options { return n.opts }

// Leases returns the current DHCP leases by MAC.
func (n *Network) Leases() map[string]netip.Addr { return n.dhcp.snapshot() }

// Close stops the forwards and servers, closes every relayed connection
// and waits for their goroutines. Safe to call more than once.
func (n *Network) Close() {
	n.closeOnce.Do(func() {
		n.spawnMu.Lock()
		n.closing = true
		n.spawnMu.Unlock()
		n.cancel()
		for _, c := range n.closers {
			c()
		}
		n.wg.Wait()
		n.s.Close()
		n.s.Wait()
		if n.pair != nil {
			n.pair.Close()
		}
	})
}

// spawn runs fn in a goroutine Close waits for; false once closing.
func (n *Network) spawn(fn func()) bool {
	n.spawnMu.Lock()
	defer n.spawnMu.Unlock()
	if n.closing {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		fn()
	}()
	return true
}

func (n *Network) report(err error) {
	if n.opts.OnError != nil && n.ctx.Err() == nil {
		n.opts.OnError(err)
	}
}

// deviceLink is the device's endpoint; closing it closes the network.
type deviceLink struct {
	*driver.Endpoint
	net *Network
}

func (d *deviceLink) Close() {
	d.Endpoint.Close()
	// Not inline: the device's stack may hold its locks here, and Close
	// waits for the cable's goroutines, which deliver into that stack.
	go d.net.Close()
}

func addrOf(a netip.Addr) tcpip.Address { return tcpip.AddrFromSlice(a.AsSlice()) }

func netipOf(a tcpip.Address) netip.Addr {
	v, _ := netip.AddrFromSlice(a.AsSlice())
	return v.Unmap()
}
