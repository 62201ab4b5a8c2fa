// Package dnstest is a small authoritative DNS server for tests, on any
// packet socket (a host socket or a gonetif stack's).
package dnstest

import (
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// Serve answers the questions that reach pc, one per datagram, until pc is
// closed. lookup gets the name without its final dot: a name it knows gets
// its address for an A question (no answer records for other types), a
// name it does not know NXDOMAIN. Malformed queries are ignored.
func Serve(pc net.PacketConn, lookup func(name string) (netip.Addr, bool)) {
	serve(pc, func(name string) ([]netip.Addr, bool) {
		addr, known := lookup(name)
		if known && addr.Is4() {
			return []netip.Addr{addr}, true
		}
		return nil, known
	})
}

// serve is the loop both servers share: one reply per well-formed query.
func serve(pc net.PacketConn, lookup func(string) ([]netip.Addr, bool)) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if reply, ok := answer(buf[:n], lookup); ok {
			_, _ = pc.WriteTo(reply, from)
		}
	}
}

// Zone maps names (without the final dot) to their addresses: the IPv4
// ones answer A questions, the IPv6 ones AAAA. A listed name without an
// address of the asked type gets an empty answer (no data); an unlisted
// one NXDOMAIN.
type Zone map[string][]netip.Addr

// ServeZone is Serve for a Zone.
func ServeZone(pc net.PacketConn, zone Zone) {
	serve(pc, zone.lookup)
}

func (z Zone) lookup(name string) ([]netip.Addr, bool) {
	addrs, known := z[name]
	return addrs, known
}

// Answer is the zone's reply to one query message; false for a malformed
// query.
func (z Zone) Answer(query []byte) ([]byte, bool) {
	return answer(query, z.lookup)
}

// answer builds the reply: NXDOMAIN for an unknown name, else the
// addresses of the asked type (none: no data).
func answer(query []byte, lookup func(string) ([]netip.Addr, bool)) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	addrs, known := lookup(strings.TrimSuffix(q.Name.String(), "."))
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionAvailable: true}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	hdr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	for _, a := range addrs {
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			_ = b.AResource(hdr, dnsmessage.AResource{A: a.As4()})
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			_ = b.AAAAResource(hdr, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
	}
	reply, err := b.Finish()
	return reply, err == nil
}
