// Package dhcp is a DHCPv4 client (RFC 2131) for one gonetif interface:
// DISCOVER/OFFER/REQUEST/ACK, renewal at T1 by unicast, rebinding at T2 by
// broadcast, expiry, NAK and RELEASE. Messages are built and parsed with
// github.com/insomniacslk/dhcp/dhcpv4; the state machine and the transport
// (a gVisor UDP endpoint on the interface's NIC) are ours.
package dhcp

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Lease is what an ACK granted.
type Lease struct {
	IP, Netmask, Router netip.Addr
	DNS                 []netip.Addr
	Server              netip.Addr // server identifier
	Duration, T1, T2    time.Duration
}

// ParseError says why a reply was not usable as a lease.
type ParseError struct{ Reason string }

func (e *ParseError) Error() string { return "dhcp: unusable reply: " + e.Reason }

// minLease bounds what we accept: zero or tiny leases would make the client
// spin, so they are treated as a broken offer.
const minLease = 2 * time.Second

// leaseFrom turns an OFFER or ACK into a Lease, or says why it is unusable.
func leaseFrom(m *dhcpv4.DHCPv4) (Lease, error) {
	var l Lease
	ip, ok := netip.AddrFromSlice(m.YourIPAddr.To4())
	if !ok || ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || ip.IsLoopback() {
		return l, &ParseError{fmt.Sprintf("bad yiaddr %v", m.YourIPAddr)}
	}
	l.IP = ip
	if sid, ok := netip.AddrFromSlice(m.ServerIdentifier().To4()); ok && !sid.IsUnspecified() {
		l.Server = sid
	} else {
		return l, &ParseError{"no server identifier"}
	}
	l.Duration = m.IPAddressLeaseTime(0)
	if l.Duration < minLease {
		return l, &ParseError{fmt.Sprintf("lease time %v", l.Duration)}
	}
	l.Netmask = maskOf(m.SubnetMask(), ip)
	for _, r := range m.Router() {
		if a, ok := netip.AddrFromSlice(r.To4()); ok && !a.IsUnspecified() {
			l.Router = a
			break
		}
	}
	for _, d := range m.DNS() {
		if a, ok := netip.AddrFromSlice(d.To4()); ok && !a.IsUnspecified() {
			l.DNS = append(l.DNS, a)
		}
	}
	l.T1 = m.IPAddressRenewalTime(l.Duration / 2)
	l.T2 = m.IPAddressRebindingTime(l.Duration * 7 / 8)
	// Keep T1 < T2 < lease whatever the server said.
	if l.T2 <= 0 || l.T2 >= l.Duration {
		l.T2 = l.Duration * 7 / 8
	}
	if l.T1 <= 0 || l.T1 >= l.T2 {
		l.T1 = min(l.Duration/2, l.T2/2)
	}
	return l, nil
}

// maskOf returns the offered mask, or the classful default when it is
// missing, zero or not contiguous (as lwIP does).
func maskOf(mask net.IPMask, ip netip.Addr) netip.Addr {
	if len(mask) == 4 {
		if ones, bits := mask.Size(); bits == 32 && ones > 0 {
			m, _ := netip.AddrFromSlice(mask)
			return m
		}
	}
	switch b := ip.As4()[0]; {
	case b < 128:
		return netip.AddrFrom4([4]byte{255, 0, 0, 0})
	case b < 192:
		return netip.AddrFrom4([4]byte{255, 255, 0, 0})
	default:
		return netip.AddrFrom4([4]byte{255, 255, 255, 0})
	}
}

// Parse decodes a server reply for client with the given hardware address
// and transaction id; it fails on anything that is not a well-formed
// BOOTREPLY for us.
func Parse(b []byte, mac net.HardwareAddr, xid dhcpv4.TransactionID) (*dhcpv4.DHCPv4, error) {
	m, err := dhcpv4.FromBytes(b)
	if err != nil {
		return nil, err
	}
	if m.OpCode != dhcpv4.OpcodeBootReply {
		return nil, &ParseError{"not a reply"}
	}
	if m.TransactionID != xid {
		return nil, &ParseError{"other transaction"}
	}
	if len(m.ClientHWAddr) < len(mac) || string(m.ClientHWAddr[:len(mac)]) != string(mac) {
		return nil, &ParseError{"other client"}
	}
	return m, nil
}
