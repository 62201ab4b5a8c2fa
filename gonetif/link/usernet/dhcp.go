package usernet

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// dhcpServer leases the pool to MACs; the library's server does the wire.
type dhcpServer struct {
	n    *Network
	mu   sync.Mutex
	byIP map[netip.Addr]*lease
	pool []netip.Addr
}

type lease struct {
	mac     string
	addr    netip.Addr
	expires time.Time
	bound   bool // ACKed, not just offered
}

func startDHCP(n *Network) (*dhcpServer, error) {
	d := &dhcpServer{n: n, byIP: map[netip.Addr]*lease{}}
	a := n.opts.DHCPStart
	for range n.opts.DHCPCount {
		d.pool = append(d.pool, a)
		a = a.Next()
	}
	var wq waiter.Queue
	ep, e := n.s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if e != nil {
		return nil, &Error{Kind: ErrBadOptions, Detail: "DHCP socket", Err: fmt.Errorf("%s", e)}
	}
	ep.SocketOptions().SetBroadcast(true)
	ep.SocketOptions().SetBindToDevice(int32(gatewayNIC))
	if e := ep.Bind(tcpip.FullAddress{Port: 67}); e != nil {
		ep.Close()
		return nil, &Error{Kind: ErrBadOptions, Detail: "DHCP bind", Err: fmt.Errorf("%s", e)}
	}
	conn := gonet.NewUDPConn(&wq, ep)
	srv, err := server4.NewServer("", nil, d.handle, server4.WithConn(conn))
	if err != nil {
		conn.Close()
		return nil, &Error{Kind: ErrBadOptions, Detail: "DHCP server", Err: err}
	}
	n.closers = append(n.closers, func() { srv.Close() })
	n.spawn(func() { srv.Serve() })
	return d, nil
}

func (d *dhcpServer) handle(conn net.PacketConn, peer net.Addr, m *dhcpv4.DHCPv4) {
	if m.OpCode != dhcpv4.OpcodeBootRequest || len(m.ClientHWAddr) != 6 {
		return
	}
	o := d.n.opts
	gw := net.IP(o.Gateway.AsSlice())
	if sid := m.ServerIdentifier(); sid != nil && !sid.Equal(gw) {
		d.release(m.ClientHWAddr.String(), false) // it chose another server
		return
	}
	var reply *dhcpv4.DHCPv4
	var err error
	mac := m.ClientHWAddr.String()
	switch m.MessageType() {
	case dhcpv4.MessageTypeDiscover:
		addr, lerr := d.offer(mac, ip4(m.RequestedIPAddress()))
		if lerr != nil {
			d.n.report(lerr)
			return
		}
		reply, err = d.reply(m, dhcpv4.MessageTypeOffer, addr)
	case dhcpv4.MessageTypeRequest:
		want := ip4(m.RequestedIPAddress())
		if !want.IsValid() {
			want = ip4(m.ClientIPAddr)
		}
		if d.bind(mac, want) {
			reply, err = d.reply(m, dhcpv4.MessageTypeAck, want)
		} else {
			reply, err = dhcpv4.NewReplyFromRequest(m, dhcpv4.WithMessageType(dhcpv4.MessageTypeNak),
				dhcpv4.WithOption(dhcpv4.OptServerIdentifier(gw)))
		}
	case dhcpv4.MessageTypeRelease, dhcpv4.MessageTypeDecline:
		d.release(mac, true)
		return
	case dhcpv4.MessageTypeInform:
		reply, err = d.reply(m, dhcpv4.MessageTypeAck, netip.Addr{})
	default:
		return
	}
	if err != nil {
		return
	}
	to := &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpv4.ClientPort}
	if !m.ClientIPAddr.IsUnspecified() && m.ClientIPAddr != nil && reply.MessageType() != dhcpv4.MessageTypeNak {
		to.IP = m.ClientIPAddr // renewing: the client has its address
	}
	conn.WriteTo(reply.ToBytes(), to)
}

func (d *dhcpServer) reply(m *dhcpv4.DHCPv4, typ dhcpv4.MessageType, addr netip.Addr) (*dhcpv4.DHCPv4, error) {
	o := d.n.opts
	gw := net.IP(o.Gateway.AsSlice())
	mods := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(typ),
		dhcpv4.WithServerIP(gw),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(gw)),
		dhcpv4.WithNetmask(net.CIDRMask(o.Net.Bits(), 32)),
		dhcpv4.WithRouter(gw),
		dhcpv4.WithDNS(net.IP(o.DNS.AsSlice())),
	}
	if addr.IsValid() {
		mods = append(mods, dhcpv4.WithYourIP(net.IP(addr.AsSlice())),
			dhcpv4.WithLeaseTime(uint32(o.LeaseTime/time.Second)))
	}
	return dhcpv4.NewReplyFromRequest(m, mods...)
}

func ip4(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip.To4())
	if !ok || a.IsUnspecified() {
		return netip.Addr{}
	}
	return a
}

// offer picks the MAC's lease, the requested address if free, or the
// first free (or expired) address of the pool.
func (d *dhcpServer) offer(mac string, want netip.Addr) (netip.Addr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	for _, l := range d.byIP {
		if l.mac == mac {
			l.expires = now.Add(d.n.opts.LeaseTime)
			return l.addr, nil
		}
	}
	free := func(a netip.Addr) bool {
		l := d.byIP[a]
		return l == nil || now.After(l.expires)
	}
	pick := netip.Addr{}
	if d.inPool(want) && free(want) {
		pick = want
	} else {
		for _, a := range d.pool {
			if free(a) {
				pick = a
				break
			}
		}
	}
	if !pick.IsValid() {
		return pick, &Error{Kind: ErrPoolExhausted,
			Detail: fmt.Sprintf("no address left for %s (%d leased from %s)", mac, len(d.pool), d.n.opts.DHCPStart)}
	}
	d.byIP[pick] = &lease{mac: mac, addr: pick, expires: now.Add(d.n.opts.LeaseTime)}
	return pick, nil
}

// bind confirms a REQUEST for addr: it must be the MAC's or free.
func (d *dhcpServer) bind(mac string, addr netip.Addr) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.inPool(addr) {
		return false
	}
	now := time.Now()
	l := d.byIP[addr]
	if l != nil && l.mac != mac && now.Before(l.expires) {
		return false
	}
	for a, other := range d.byIP {
		if other.mac == mac && a != addr {
			delete(d.byIP, a)
		}
	}
	d.byIP[addr] = &lease{mac: mac, addr: addr, expires: now.Add(d.n.opts.LeaseTime), bound: true}
	return true
}

// release frees the MAC's lease; an offer only unless bound too.
func (d *dhcpServer) release(mac string, bound bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for a, l := range d.byIP {
		if l.mac == mac && (bound || !l.bound) {
			delete(d.byIP, a)
		}
	}
}

func (d *dhcpServer) inPool(a netip.Addr) bool {
	return a.IsValid() && len(d.pool) > 0 && a.Compare(d.pool[0]) >= 0 && a.Compare(d.pool[len(d.pool)-1]) <= 0
}

func (d *dhcpServer) snapshot() map[string]netip.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]netip.Addr{}
	for a, l := range d.byIP {
		if l.bound {
			out[l.mac] = a
		}
	}
	return out
}
