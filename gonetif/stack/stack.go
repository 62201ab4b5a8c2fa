// Package stack builds the gVisor network stack that every gonetif
// interface and socket lives on, with defaults that behave like a device's
// lwIP or a Linux host rather than like gVisor's sandbox defaults.
package stack

import (
	"errors"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// Options tunes a new stack. The zero value is what applications want.
type Options struct {
	// NoDelay turns Nagle's algorithm off for new TCP sockets. Linux and
	// lwIP keep Nagle on until TCP_NODELAY is set, and so do we by default
	// (gVisor's own default is off, docs/DESIGN.md D6).
	NoDelay bool

	// NoRACK turns gVisor's RACK loss detection (and its tail loss probes)
	// off, leaving SACK recovery alone. RACK is on by default: without it
	// lost retransmissions and lost tails were found only by retransmission
	// timeouts, and a sender under 5-10 % loss ran 7-15x slower than the
	// kernel's (bench/RESULTS.md, "Loss recovery"). RACK walks the in-flight
	// segments on each ACK; with GSO segments that stays cheap.
	NoRACK bool

	// MinRTO lowers the floor of the retransmission timeout (zero keeps
	// Linux's and gVisor's 200 ms). A smaller floor recovers faster from
	// the losses RACK cannot see, but on a path whose delay jumps it causes
	// spurious retransmissions: use it for links known to be short.
	MinRTO time.Duration

	// MaxTimeWait bounds the TCP connections kept in TIME_WAIT (Linux's
	// tcp_max_tw_buckets): each keeps its whole gVisor endpoint, 7-8 KB,
	// for the 60 s of TIME_WAIT, so 1000 closes per second held 350-600 MB.
	// Past the bound the excess is aborted (gonetif.Stack enforces it
	// every 200 ms). 0 means DefaultMaxTimeWait, negative no bound.
	MaxTimeWait int

	// SendBufferMax and ReceiveBufferMax bound TCP's auto-tuned buffers
	// (bytes). Zero picks 4 MiB, plenty for a LAN.
	SendBufferMax, ReceiveBufferMax int

	// NDP receives router discovery and SLAAC results (the netif manager
	// turns them into routes and got-ip6 events). Nil: none.
	NDP ipv6.NDPDispatcher

	// TCPProbe, when set, is called with a TCP endpoint's full state after
	// each segment it handles: for diagnostics (what a stalled sender
	// thought last), it copies the state every time and slows TCP down.
	TCPProbe tcp.TCPProbeFunc

	// LocalPortRange is the ephemeral port range, inclusive, as Linux's
	// net.ipv4.ip_local_port_range. Zero keeps gVisor's default.
	LocalPortRange [2]uint16

	// TCPInline processes an incoming segment of a connected or
	// connecting TCP endpoint on the goroutine that delivered it (the TAP
	// reader) instead of handing it to one of gVisor's processor
	// goroutines, saving a wake-up per segment; bulk transfer, LISTEN and
	// TIME_WAIT stay on the processors. It needs the gVisor overlay
	// (README, "gVisor fix"): New fails with ErrNoInline without it.
	TCPInline bool
}

// ErrNoInline: Options.TCPInline was asked for on a gVisor built without
// the overlay, which adds the switch.
var ErrNoInline = errors.New("gonetif stack: TCP inline processing needs gVisor built with the overlay (go run ./cmd/gvisorfix; README, \"gVisor fix\")")

// inlineSwitch is what the overlay adds to gVisor's TCP protocol
// (internal/gvisorfix, add/.../tcp/gonetif_inline.go.txt).
type inlineSwitch interface {
	SetInlineProcessing(on bool)
	InlineProcessing() bool
}

// TCPInline reports whether s processes TCP segments inline
// (Options.TCPInline).
func TCPInline(s *gvstack.Stack) bool {
	sw, ok := s.TransportProtocolInstance(tcp.ProtocolNumber).(inlineSwitch)
	return ok && sw.InlineProcessing()
}

// DefaultMaxTimeWait is MaxTimeWait's default: about 32 MB of TIME_WAIT
// endpoints, 4 s of history at 1000 connections per second.
const DefaultMaxTimeWait = 4096

// TimeWaitLimit returns the TIME_WAIT bound o asks for, 0 for none.
func (o Options) TimeWaitLimit() int {
	switch {
	case o.MaxTimeWait < 0:
		return 0
	case o.MaxTimeWait == 0:
		return DefaultMaxTimeWait
	}
	return o.MaxTimeWait
}

// New returns a gVisor stack with IPv4, IPv6, ARP, TCP, UDP and ICMP.
func New(opts Options) (*gvstack.Stack, error) {
	newTCP := tcp.NewProtocol
	if opts.TCPProbe != nil {
		newTCP = tcp.NewProtocolProbe(opts.TCPProbe)
	}
	s := gvstack.New(gvstack.Options{
		NetworkProtocols: []gvstack.NetworkProtocolFactory{
			// IGMP and MLD on, as on Linux: multicast joins are announced.
			ipv4.NewProtocolWithOptions(ipv4.Options{IGMP: ipv4.IGMPOptions{Enabled: true}}),
			ipv6.NewProtocolWithOptions(ipv6.Options{
				MLD:              ipv6.MLDOptions{Enabled: true},
				AutoGenLinkLocal: true,
				DADConfigs:       gvstack.DADConfigurations{DupAddrDetectTransmits: 0},
				NDPConfigs:       ndpConfig(),
				NDPDisp:          opts.NDP,
			}),
			arp.NewProtocol,
		},
		TransportProtocols: []gvstack.TransportProtocolFactory{
			newTCP, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6,
		},
		HandleLocal: true,
		Clock:       newHostClock(),
	})

	sendMax, recvMax := opts.SendBufferMax, opts.ReceiveBufferMax
	if sendMax <= 0 {
		sendMax = 4 << 20
	}
	if recvMax <= 0 {
		recvMax = 4 << 20
	}
	sack := tcpip.TCPSACKEnabled(true)
	delay := tcpip.TCPDelayEnabled(!opts.NoDelay)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	recovery := tcpip.TCPRACKLossDetection
	if opts.NoRACK {
		recovery = 0
	}
	sendRange := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 256 << 10, Max: sendMax}
	// Receive buffers start at their maximum: gVisor's moderation grows
	// them only as fast as the application reads, and a small starting
	// window throttled a kernel sender on the TAP (bulk receive 420-500 ->
	// 800 MB/s with 4 MiB). Memory is taken only for data actually queued,
	// so idle connections cost the same.
	recvDefault := 4 << 20
	if recvDefault > recvMax {
		recvDefault = recvMax
	}
	recvRange := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: recvDefault, Max: recvMax}
	tcpOpts := []tcpip.SettableTransportProtocolOption{&sack, &delay, &moderate, &recovery, &sendRange, &recvRange}
	if opts.MinRTO > 0 {
		minRTO := tcpip.TCPMinRTOOption(opts.MinRTO)
		tcpOpts = append(tcpOpts, &minRTO)
	}
	for _, opt := range tcpOpts {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, opt); err != nil {
			s.Close()
			return nil, &Error{Op: "set TCP option", Err: err}
		}
	}
	// Before any connection: new connections read the secret unlocked.
	if secret, ok := hostTimestampSecret(); ok {
		if ts, ok := s.TransportProtocolInstance(tcp.ProtocolNumber).(timestampSecret); ok {
			ts.SetTimestampSecret(secret)
		}
	}
	if opts.TCPInline {
		// Before any interface exists: gVisor's demuxer and dispatcher
		// read the switch separately, so it must not change under traffic.
		sw, ok := s.TransportProtocolInstance(tcp.ProtocolNumber).(inlineSwitch)
		if !ok {
			s.Close()
			return nil, ErrNoInline
		}
		sw.SetInlineProcessing(true)
	}
	if r := opts.LocalPortRange; r != [2]uint16{} {
		if err := s.SetPortRange(r[0], r[1]); err != nil {
			s.Close()
			return nil, &Error{Op: "set local port range", Err: err}
		}
	}
	return s, nil
}

// ndpConfig makes an interface act like a host on its link (lwIP's
// defaults): solicit routers, learn default routers and on-link prefixes
// from their advertisements, and form SLAAC addresses.
func ndpConfig() ipv6.NDPConfigurations {
	c := ipv6.DefaultNDPConfigurations()
	c.HandleRAs = ipv6.HandlingRAsEnabledWhenForwardingDisabled
	c.DiscoverDefaultRouters = true
	c.DiscoverOnLinkPrefixes = true
	c.AutoGenGlobalAddresses = true
	c.AutoGenTempGlobalAddresses = false // lwIP has no privacy addresses
	c.MaxRtrSolicitations = 3
	c.RtrSolicitationInterval = time.Second
	c.MaxRtrSolicitationDelay = 100 * time.Millisecond
	return c
}

// Error reports a gVisor failure while configuring the stack.
type Error struct {
	Op  string
	Err tcpip.Error
}

func (e *Error) Error() string { return "gonetif stack: " + e.Op + ": " + e.Err.String() }
