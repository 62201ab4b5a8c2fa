package usernet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// dnsQueryTimeout bounds one lookup on the host's resolver.
const dnsQueryTimeout = 5 * time.Second

// maxDNSAnswers keeps a UDP answer under 512 bytes.
const maxDNSAnswers = 16

// maxDNSInFlight bounds concurrent lookups; more queries wait.
const maxDNSInFlight = 32

func startDNS(n *Network) error {
	conn, err := gonet.DialUDP(n.s, &tcpip.FullAddress{NIC: gatewayNIC, Addr: addrOf(n.opts.DNS), Port: 53}, nil, ipv4.ProtocolNumber)
	if err != nil {
		return &Error{Kind: ErrBadOptions, Detail: "DNS socket", Err: err}
	}
	n.closers = append(n.closers, func() { conn.Close() })
	n.spawn(func() { n.serveDNS(conn) })
	return nil
}

func (n *Network) serveDNS(conn *gonet.UDPConn) {
	slots := make(chan struct{}, maxDNSInFlight)
	buf := make([]byte, 1500)
	for {
		k, peer, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		query := append([]byte(nil), buf[:k]...)
		select {
		case slots <- struct{}{}:
		case <-n.ctx.Done():
			return
		}
		if !n.spawn(func() {
			defer func() { <-slots }()
			if reply := n.answerDNS(query); reply != nil {
				conn.WriteTo(reply, peer)
			}
		}) {
			return
		}
	}
}

// answerDNS answers A and AAAA from the host's resolver; anything else is
// NOTIMP, a malformed query nothing.
func (n *Network) answerDNS(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil || h.Response {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, OpCode: h.OpCode, RecursionDesired: h.RecursionDesired,
		RecursionAvailable: true}
	var ips []net.IP
	switch {
	case h.OpCode != 0 || q.Class != dnsmessage.ClassINET:
		rh.RCode = dnsmessage.RCodeNotImplemented
	case q.Type == dnsmessage.TypeA || q.Type == dnsmessage.TypeAAAA:
		family := "ip4"
		if q.Type == dnsmessage.TypeAAAA {
			family = "ip6"
		}
		ctx, cancel := context.WithTimeout(n.ctx, dnsQueryTimeout)
		addrs, err := n.opts.Resolver.LookupIP(ctx, family, strings.TrimSuffix(q.Name.String(), "."))
		cancel()
		var de *net.DNSError
		switch {
		case err == nil:
			ips = addrs
		case errors.As(err, &de) && de.IsNotFound:
			// Go reports "no such host" for a name with records of the
			// other family only; tell the two apart as a server would.
			other := "ip6"
			if family == "ip6" {
				other = "ip4"
			}
			ctx, cancel := context.WithTimeout(n.ctx, dnsQueryTimeout)
			if _, err2 := n.opts.Resolver.LookupIP(ctx, other, strings.TrimSuffix(q.Name.String(), ".")); err2 != nil {
				rh.RCode = dnsmessage.RCodeNameError
			}
			cancel()
		default:
			rh.RCode = dnsmessage.RCodeServerFailure
			n.report(&Error{Kind: ErrDialFailed, Detail: fmt.Sprintf("DNS lookup of %s", q.Name), Err: err})
		}
	default:
		rh.RCode = dnsmessage.RCodeNotImplemented
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), rh)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil
	}
	rr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	for i, ip := range ips {
		if i == maxDNSAnswers {
			break
		}
		if v4 := ip.To4(); v4 != nil && q.Type == dnsmessage.TypeA {
			err = b.AResource(rr, dnsmessage.AResource{A: [4]byte(v4)})
		} else if v4 == nil && q.Type == dnsmessage.TypeAAAA {
			err = b.AAAAResource(rr, dnsmessage.AAAAResource{AAAA: [16]byte(ip.To16())})
		}
		if err != nil {
			return nil
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}
