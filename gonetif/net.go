package gonetif

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"

	"gonetif.dev/gonetif/dns"
)

// The methods below are shaped like package net's, so code written for
// net (http.Transport.DialContext, grpc dialers, ...) runs over a Stack:
//
//	tr := &http.Transport{DialContext: st.DialContext}
//
// Host names are resolved by the stack's own Resolver (DNS servers from
// DHCP or esp_netif_set_dns_info); there is no hosts file, so "localhost"
// is a DNS question like any other name.

// family is which IP versions a network name allows.
type family int

const (
	anyFamily family = 0
	v4Only    family = 4
	v6Only    family = 6
)

func parseNetwork(network string) (proto string, fam family, err error) {
	switch network {
	case "tcp", "udp":
		return network, anyFamily, nil
	case "tcp4", "udp4":
		return network[:3], v4Only, nil
	case "tcp6", "udp6":
		return network[:3], v6Only, nil
	}
	return "", 0, net.UnknownNetworkError(network)
}

func (f family) allows(a netip.Addr) bool {
	switch f {
	case v4Only:
		return a.Is4() || a.Is4In6()
	case v6Only:
		return a.Is6() && !a.Is4In6()
	}
	return true
}

// DialContext connects to address on the named network ("tcp", "tcp4",
// "tcp6", "udp", "udp4", "udp6"), as net.Dialer.DialContext does: the host
// may be a name, tried address by address until one connects.
func (s *Stack) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	opErr := func(err error) error { return &net.OpError{Op: "dial", Net: network, Err: err} }
	proto, fam, err := parseNetwork(network)
	if err != nil {
		return nil, opErr(err)
	}
	host, port, err := splitHostPort(network, address)
	if err != nil {
		return nil, opErr(err)
	}
	addrs, err := s.resolve(ctx, host, fam)
	if err != nil {
		return nil, opErr(err)
	}
	var firstErr error
	for _, a := range addrs {
		full, nproto := s.fullAddress(a, port)
		var c net.Conn
		if proto == "tcp" {
			var tc *gonet.TCPConn
			tc, err = gonet.DialContextTCP(ctx, s.gv, full, nproto)
			if err == nil {
				c = tc
			}
		} else {
			var uc *gonet.UDPConn
			uc, err = gonet.DialUDP(s.gv, nil, &full, nproto)
			if err == nil {
				c = uc
			}
		}
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// Dial is DialContext without a context.
func (s *Stack) Dial(network, address string) (net.Conn, error) {
	return s.DialContext(context.Background(), network, address)
}

// Listen listens for TCP connections ("tcp", "tcp4", "tcp6") on a local
// address, as net.Listen: an empty or unspecified host listens on every
// interface ("tcp" on both IPv4 and IPv6), port 0 picks a free port.
func (s *Stack) Listen(network, address string) (net.Listener, error) {
	opErr := func(err error) error { return &net.OpError{Op: "listen", Net: network, Err: err} }
	proto, fam, err := parseNetwork(network)
	if err != nil || proto != "tcp" {
		return nil, opErr(net.UnknownNetworkError(network))
	}
	full, nproto, err := s.localAddress(network, address, fam)
	if err != nil {
		return nil, opErr(err)
	}
	return gonet.ListenTCP(s.gv, full, nproto)
}

// ListenPacket opens a UDP socket ("udp", "udp4", "udp6") bound to a local
// address, as net.ListenPacket.
func (s *Stack) ListenPacket(network, address string) (net.PacketConn, error) {
	opErr := func(err error) error { return &net.OpError{Op: "listen", Net: network, Err: err} }
	proto, fam, err := parseNetwork(network)
	if err != nil || proto != "udp" {
		return nil, opErr(net.UnknownNetworkError(network))
	}
	full, nproto, err := s.localAddress(network, address, fam)
	if err != nil {
		return nil, opErr(err)
	}
	return gonet.DialUDP(s.gv, &full, nil, nproto)
}

// LookupHost returns the addresses of host, as net.Resolver.LookupHost.
func (s *Stack) LookupHost(ctx context.Context, host string) ([]string, error) {
	addrs, err := s.resolve(ctx, host, anyFamily)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out, nil
}

// LookupIP returns the addresses of host for network "ip", "ip4" or "ip6",
// as net.Resolver.LookupIP.
func (s *Stack) LookupIP(ctx context.Context, network, host string) ([]net.IP, error) {
	addrs, err := s.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, err
	}
	out := make([]net.IP, len(addrs))
	for i, a := range addrs {
		out[i] = net.IP(a.AsSlice())
	}
	return out, nil
}

// LookupNetIP is LookupIP with netip addresses.
func (s *Stack) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	var fam family
	switch network {
	case "ip":
	case "ip4":
		fam = v4Only
	case "ip6":
		fam = v6Only
	default:
		return nil, net.UnknownNetworkError(network)
	}
	return s.resolve(ctx, host, fam)
}

// resolve turns a literal or a name into addresses of the family, through
// the stack's Resolver; failures are *net.DNSError, as from package net.
func (s *Stack) resolve(ctx context.Context, host string, fam family) ([]netip.Addr, error) {
	if host == "" {
		return nil, &net.AddrError{Err: "missing host", Addr: host}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !fam.allows(a) {
			return nil, &net.AddrError{Err: "address of the wrong family", Addr: host}
		}
		return []netip.Addr{a}, nil
	}
	res, err := s.Resolver.Lookup(ctx, host, int(fam))
	if err != nil {
		de := &net.DNSError{Err: err.Error(), Name: host}
		var e *dns.Error
		if errors.As(err, &e) {
			de.IsNotFound = e.Kind == dns.NotFound || e.Kind == dns.NoData
			de.IsTimeout = e.Kind == dns.Timeout
			de.IsTemporary = e.Kind == dns.Timeout || e.Kind == dns.Failed
		}
		return nil, de
	}
	var out []netip.Addr
	for _, a := range res.Addrs {
		if fam.allows(a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no address of the requested family", Name: host, IsNotFound: true}
	}
	return out, nil
}

func splitHostPort(network, address string) (string, uint16, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	port, err := parsePort(network, portText)
	return host, port, err
}

// parsePort takes a number or a service name (from /etc/services, as net).
func parsePort(network, text string) (uint16, error) {
	if n, err := strconv.ParseUint(text, 10, 16); err == nil {
		return uint16(n), nil
	}
	n, err := net.LookupPort(network, text)
	if err != nil {
		return 0, err
	}
	return uint16(n), nil
}

// localAddress parses a listen address; an empty host is every address
// (both families for a plain "tcp"/"udp": IPv6 any, which accepts IPv4
// peers as v4-mapped addresses).
func (s *Stack) localAddress(network, address string, fam family) (tcpip.FullAddress, tcpip.NetworkProtocolNumber, error) {
	host, port, err := splitHostPort(network, address)
	if err != nil {
		return tcpip.FullAddress{}, 0, err
	}
	if host == "" {
		switch fam {
		case v4Only:
			return tcpip.FullAddress{Port: port}, ipv4.ProtocolNumber, nil
		default:
			return tcpip.FullAddress{Port: port}, ipv6.ProtocolNumber, nil
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return tcpip.FullAddress{}, 0, &net.AddrError{Err: "listen needs an IP address, not a name", Addr: host}
	}
	if !fam.allows(a) {
		return tcpip.FullAddress{}, 0, &net.AddrError{Err: "address of the wrong family", Addr: host}
	}
	full, proto := s.fullAddress(a, port)
	if a.IsUnspecified() && a.Is6() && fam == anyFamily {
		proto = ipv6.ProtocolNumber
	}
	return full, proto, nil
}

// fullAddress is fullAddress with the zone of a scoped IPv6 address turned
// into the interface's NIC (a number, or the interface's name).
func (s *Stack) fullAddress(a netip.Addr, port uint16) (tcpip.FullAddress, tcpip.NetworkProtocolNumber) {
	full, proto := fullAddress(netip.AddrPortFrom(a.WithZone(""), port))
	if zone := a.Zone(); zone != "" {
		if n, err := strconv.Atoi(zone); err == nil {
			full.NIC = tcpip.NICID(n)
		} else {
			for id, info := range s.gv.NICInfo() {
				if info.Name == zone {
					full.NIC = id
				}
			}
		}
	}
	return full, proto
}
