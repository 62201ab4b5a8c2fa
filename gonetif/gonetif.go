// Package gonetif runs ESP-IDF style network interfaces on the gVisor
// netstack from plain Go: create a Stack, add interfaces on links (a TAP
// device, a C driver, an in-memory pair), and use net.Conn/net.Listener.
//
// The C API (esp_netif, tapio, BSD sockets) in capi/ is a thin layer over
// this package and its sub-packages.
package gonetif

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/dns"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/socket"
	"gonetif.dev/gonetif/stack"
)

// Stack is one network stack with its interfaces and sockets.
type Stack struct {
	gv       *gvstack.Stack
	ndp      *netif.NDP
	Netifs   *netif.Manager
	Sockets  *socket.Table
	Resolver *dns.Resolver // servers from DHCP or esp_netif_set_dns_info

	// ExitLinger bounds how long RemoveInterface, StopInterface and
	// DrainAll wait for TCP connections the application already closed
	// to deliver their last data, and for frames (a datagram sent just
	// before exit) queued behind a neighbour resolution (0: not at all).
	// New sets DefaultExitLinger; set it before the stack is used.
	ExitLinger time.Duration

	timeWait  *timeWaitLimit // nil without a limit
	closeOnce sync.Once
}

// DefaultExitLinger is ExitLinger's default.
const DefaultExitLinger = 2 * time.Second

// New builds a stack.
func New(opts stack.Options) (*Stack, error) {
	ndp := netif.NewNDP()
	if opts.NDP == nil {
		opts.NDP = ndp
	}
	gv, err := stack.New(opts)
	if err != nil {
		return nil, err
	}
	s := &Stack{gv: gv, ndp: ndp, Netifs: netif.NewManager(gv), Sockets: socket.NewTable(), ExitLinger: DefaultExitLinger}
	s.Netifs.AttachNDP(ndp)
	// 127.0.0.1 and ::1 answer inside the stack, as with lwIP's
	// LWIP_NETIF_LOOPBACK (and on Linux).
	if err := s.Netifs.AddLoopback(); err != nil {
		gv.Close()
		return nil, err
	}
	s.Resolver = &dns.Resolver{Stack: gv, Servers: s.Netifs.DNSServers, PreferIPv6: s.hasGlobalIPv6, Logf: s.Netifs.Logf,
		AddrConfig: s.configuredFamilies, Source: s.sourceFor, InterfaceIndex: s.interfaceIndex}
	if max := opts.TimeWaitLimit(); max > 0 {
		s.timeWait = startTimeWaitLimit(gv, max)
	}
	return s, nil
}

// hasGlobalIPv6 reports whether some interface has a global IPv6 address,
// which is when Linux orders AAAA answers first.
func (s *Stack) hasGlobalIPv6() bool {
	for _, addrs := range s.gv.AllAddresses() {
		for _, a := range addrs {
			if a.Protocol == ipv6.ProtocolNumber {
				if ip, ok := netip.AddrFromSlice(a.AddressWithPrefix.Address.AsSlice()); ok && ip.IsGlobalUnicast() {
					return true
				}
			}
		}
	}
	return false
}

// configuredFamilies reports whether some interface has a non-loopback
// IPv4 and IPv6 address (getaddrinfo's AI_ADDRCONFIG; link-local counts,
// as in glibc).
func (s *Stack) configuredFamilies() (v4, v6 bool) {
	for _, addrs := range s.gv.AllAddresses() {
		for _, a := range addrs {
			ip, ok := netip.AddrFromSlice(a.AddressWithPrefix.Address.AsSlice())
			// gVisor lists the broadcast address as one of each IPv4 NIC's.
			if !ok || ip.IsLoopback() || ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
				continue
			}
			v4, v6 = v4 || ip.Is4(), v6 || ip.Is6()
		}
	}
	return v4, v6
}

// sourceFor is the address a packet to dst leaves from, as a connected
// UDP socket would get it (getaddrinfo orders its answer by it). Like
// Linux, an unspecified destination means this host.
func (s *Stack) sourceFor(dst netip.Addr) (netip.Addr, bool) {
	proto := ipv4.ProtocolNumber
	if dst.Is6() {
		proto = ipv6.ProtocolNumber
	}
	if dst.IsUnspecified() {
		dst = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		if proto == ipv6.ProtocolNumber {
			dst = netip.IPv6Loopback()
		}
	}
	r, err := s.gv.FindRoute(0, tcpip.Address{}, tcpip.AddrFromSlice(dst.AsSlice()), proto, false)
	if err != nil {
		return netip.Addr{}, false
	}
	defer r.Release()
	local := r.LocalAddress()
	src, ok := netip.AddrFromSlice(local.AsSlice())
	return src, ok
}

// interfaceIndex names interfaces for IPv6 scopes ("fe80::1%tp0").
func (s *Stack) interfaceIndex(name string) (int, bool) {
	id, err := s.Netifs.IndexByName(name)
	return int(id), err == nil
}

// Gvisor returns the underlying gVisor stack.
func (s *Stack) Gvisor() *gvstack.Stack { return s.gv }

// AddInterface creates an interface on link and starts it (a convenience
// for Go users; C follows esp_netif's new/attach/start steps).
func (s *Stack) AddInterface(cfg netif.Config, link gvstack.LinkEndpoint) (*netif.Netif, error) {
	n, err := s.Netifs.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := n.Attach(link); err != nil {
		s.Netifs.Destroy(n)
		return nil, err
	}
	if err := n.Start(); err != nil {
		s.Netifs.Destroy(n)
		return nil, err
	}
	return n, nil
}

// RemoveInterface stops and forgets n. Connections over n already closed
// by the application get up to ExitLinger to deliver what they still
// hold, and frames waiting for a neighbour on n to answer get the same
// time, as they would in a kernel, before the link goes away under them;
// other interfaces' are not waited for.
func (s *Stack) RemoveInterface(n *netif.Netif) {
	s.drainNIC(n)
	s.Netifs.Destroy(n)
}

// StopInterface is RemoveInterface without forgetting n.
func (s *Stack) StopInterface(n *netif.Netif) error {
	s.drainNIC(n)
	return n.Stop()
}

// Undelivered is what a drain left when ExitLinger ran out.
type Undelivered struct {
	Connections int // closed TCP connections still sending
	Resolutions int // neighbour resolutions still pending, frames queued behind them
}

// DrainAll waits up to ExitLinger, at process exit, for every closed TCP
// connection still sending and every frame waiting for a neighbour to
// answer, over the interfaces that still exist; it returns what was left.
func (s *Stack) DrainAll() Undelivered {
	return s.drain(func(tcpip.NICID) bool { return true })
}

func (s *Stack) drainNIC(n *netif.Netif) {
	nic := n.NICID()
	if nic == 0 || s.ExitLinger <= 0 {
		return
	}
	s.drain(func(id tcpip.NICID) bool { return id == nic })
}

const (
	drainPoll = 5 * time.Millisecond
	// gVisor sends the frames queued behind a resolution from a timer of
	// its own once the neighbour has answered: a drain that saw one
	// pending gives that send this long after the answer.
	resolvedSettle = 10 * time.Millisecond
)

func (s *Stack) drain(onNIC func(tcpip.NICID) bool) Undelivered {
	deadline := time.Now().Add(s.ExitLinger)
	sawPending := false
	var left Undelivered
	for {
		left.Connections = s.Sockets.Drain(0, func(ep tcpip.Endpoint) bool {
			nic := s.nicOf(ep)
			return nic != 0 && onNIC(nic)
		})
		left.Resolutions = s.pendingResolutions(onNIC)
		sawPending = sawPending || left.Resolutions > 0
		if left == (Undelivered{}) || !time.Now().Before(deadline) {
			break
		}
		time.Sleep(drainPoll)
	}
	if sawPending && left.Resolutions == 0 {
		time.Sleep(resolvedSettle)
	}
	return left
}

// pendingResolutions counts the neighbours (ARP and NDP) being resolved
// on the matching interfaces: frames to them wait in gVisor's queue.
func (s *Stack) pendingResolutions(onNIC func(tcpip.NICID) bool) int {
	n := 0
	for id := range s.gv.NICInfo() {
		if !onNIC(id) {
			continue
		}
		for _, proto := range []tcpip.NetworkProtocolNumber{ipv4.ProtocolNumber, ipv6.ProtocolNumber} {
			entries, err := s.gv.Neighbors(id, proto)
			if err != nil {
				continue // no resolution on this interface (loopback)
			}
			for _, e := range entries {
				if e.State == gvstack.Incomplete {
					n++
				}
			}
		}
	}
	return n
}

// nicOf is the interface holding ep's local address, 0 if none does (any
// more).
func (s *Stack) nicOf(ep tcpip.Endpoint) tcpip.NICID {
	info, ok := ep.Info().(*gvstack.TransportEndpointInfo)
	if !ok {
		return 0
	}
	// Not gVisor's CheckLocalAddress: for a given NIC it answers yes to
	// any IPv4 address, and for NIC 0 it may answer the loopback.
	return socket.LocalNIC(s.gv, info.NetProto, info.ID.LocalAddress)
}

// DialTCP connects to addr.
func (s *Stack) DialTCP(ctx context.Context, addr netip.AddrPort) (*gonet.TCPConn, error) {
	full, proto := fullAddress(addr)
	return gonet.DialContextTCP(ctx, s.gv, full, proto)
}

// ListenTCP listens on addr (an unspecified address listens on all).
func (s *Stack) ListenTCP(addr netip.AddrPort) (*gonet.TCPListener, error) {
	full, proto := fullAddress(addr)
	return gonet.ListenTCP(s.gv, full, proto)
}

// ListenUDP opens a UDP socket bound to addr.
func (s *Stack) ListenUDP(addr netip.AddrPort) (*gonet.UDPConn, error) {
	full, proto := fullAddress(addr)
	return gonet.DialUDP(s.gv, &full, nil, proto)
}

// DialUDP opens a UDP socket connected to raddr.
func (s *Stack) DialUDP(raddr netip.AddrPort) (*gonet.UDPConn, error) {
	full, proto := fullAddress(raddr)
	return gonet.DialUDP(s.gv, nil, &full, proto)
}

// Close removes every interface and stops the stack; safe to call more
// than once.
func (s *Stack) Close() {
	s.closeOnce.Do(func() {
		for _, n := range s.Netifs.List() {
			s.Netifs.Destroy(n)
		}
		if s.timeWait != nil {
			s.timeWait.close()
		}
		s.gv.Close()
		s.gv.Wait()
		s.ndp.Close()
	})
}

func fullAddress(ap netip.AddrPort) (tcpip.FullAddress, tcpip.NetworkProtocolNumber) {
	addr := ap.Addr().Unmap()
	full := tcpip.FullAddress{Port: ap.Port()}
	proto := ipv4.ProtocolNumber
	if addr.Is6() {
		proto = ipv6.ProtocolNumber
	}
	if addr.IsValid() && !addr.IsUnspecified() {
		full.Addr = tcpip.AddrFromSlice(addr.AsSlice())
	}
	return full, proto
}

// EnableInlineReceive turns run-to-completion receive on for every socket
// made after it (GONETIF_TCP_RTC; docs/DESIGN.md D20): a caller about to
// block may read its interface's frames itself. The stack must have been
// made with stack.Options.TCPInline, so that the caller's thread does the
// TCP work of what it reads.
func (s *Stack) EnableInlineReceive() {
	netifs := s.Netifs
	s.Sockets.InlineReceivers = func(nic tcpip.NICID) socket.InlineReceiver {
		if r := netifs.InlineReader(nic); r != nil {
			return r
		}
		return nil // not a typed nil: the link reads no frames for callers
	}
}
