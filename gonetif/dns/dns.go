// Package dns is a stub resolver for gonetif: A and AAAA queries over UDP
// on the gVisor stack, retried across the configured servers, with a TCP
// retry when an answer is truncated. Messages are built and parsed with
// golang.org/x/net/dns/dnsmessage. GetAddrInfo puts getaddrinfo(3)'s rules
// (glibc's) on top: hints, numeric hosts, services, order, EAI_* codes.
package dns

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Kind classifies a lookup failure; the C layer maps it to an EAI_* code.
type Kind int

// Failure kinds.
const (
	NotFound  Kind = iota + 1 // NXDOMAIN
	NoData                    // the name exists without records of that type
	NoServers                 // no DNS server configured
	Timeout                   // no server answered
	Failed                    // servers answered with errors (SERVFAIL, REFUSED, garbage)
	BadName                   // not a valid host name
)

// Error is the error type of every lookup.
type Error struct {
	Kind Kind
	Name string
	Err  error // last underlying cause, may be nil
}

func (e *Error) Error() string {
	s := map[Kind]string{NotFound: "no such host", NoData: "no address of that family", NoServers: "no DNS server configured",
		Timeout: "no DNS server answered", Failed: "DNS servers failed", BadName: "invalid name"}[e.Kind]
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return "dns: " + e.Name + ": " + s
}

func (e *Error) Unwrap() error { return e.Err }

// Resolver looks names up through the servers Servers returns, in order.
type Resolver struct {
	Stack   *gvstack.Stack
	Servers func() []netip.Addr
	// Timeout bounds one try at one server (default 1.5 s); Attempts is how
	// many rounds over all servers are made (default 2).
	Timeout  time.Duration
	Attempts int
	// PreferIPv6 orders AAAA answers first for family 0 (Linux does so
	// when the host has a global IPv6 source address). Nil: IPv4 first.
	PreferIPv6 func() bool
	// Logf, if set, reports failed tries (for diagnosis).
	Logf func(format string, args ...any)

	// For GetAddrInfo, each optional. AddrConfig reports whether some
	// non-loopback IPv4 and IPv6 address is configured (AI_ADDRCONFIG; nil:
	// the flag filters nothing). Source is the local address a packet to
	// dst would leave from, false when dst is unreachable (result order;
	// nil: as found). InterfaceIndex names interfaces for IPv6 scopes.
	AddrConfig     func() (v4, v6 bool)
	Source         func(dst netip.Addr) (netip.Addr, bool)
	InterfaceIndex func(name string) (int, bool)

	// exchange, set by tests, replaces the network: one query message in,
	// the server's reply out.
	exchange func(query []byte) ([]byte, error)
}

// Result is what a lookup found.
type Result struct {
	Addrs     []netip.Addr
	Canonical string
}

const maxUDP = 1232 // EDNS-safe payload we advertise and expect

// Lookup resolves name to addresses of family 4, 6 or 0 (both).
func (r *Resolver) Lookup(ctx context.Context, name string, family int) (Result, error) {
	fqdn, err := dnsmessage.NewName(strings.TrimSuffix(name, ".") + ".")
	if err != nil || !validName(name) {
		return Result{}, &Error{Kind: BadName, Name: name, Err: err}
	}
	var types []dnsmessage.Type
	six := r.PreferIPv6 != nil && r.PreferIPv6()
	switch {
	case family == 4:
		types = []dnsmessage.Type{dnsmessage.TypeA}
	case family == 6:
		types = []dnsmessage.Type{dnsmessage.TypeAAAA}
	case six:
		types = []dnsmessage.Type{dnsmessage.TypeAAAA, dnsmessage.TypeA}
	default:
		types = []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA}
	}
	type answer struct {
		res Result
		err error
	}
	answers := make([]chan answer, len(types))
	for i, t := range types { // both families at once, as glibc does
		answers[i] = make(chan answer, 1)
		go func() {
			res, err := r.query(ctx, fqdn, t)
			answers[i] <- answer{res, err}
		}()
	}
	var out Result
	var firstErr error
	for _, ch := range answers {
		a := <-ch
		if a.err != nil {
			if firstErr == nil {
				firstErr = a.err
			}
			continue
		}
		out.Addrs = append(out.Addrs, a.res.Addrs...)
		if out.Canonical == "" {
			out.Canonical = a.res.Canonical
		}
	}
	if len(out.Addrs) > 0 {
		return out, nil
	}
	// A name without A or AAAA records stays NoData (glibc's EAI_NODATA).
	return Result{}, firstErr
}

// validName accepts what a DNS query can carry: 1..253 bytes, labels of
// 1..63 bytes, no spaces or control characters.
func validName(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if len(name) == 0 || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if len(label) == 0 || len(label) > 63 {
			return false
		}
		for _, c := range []byte(label) {
			if c <= ' ' || c == 0x7f {
				return false
			}
		}
	}
	return true
}

// query asks each server in turn for one record type.
func (r *Resolver) query(ctx context.Context, name dnsmessage.Name, t dnsmessage.Type) (Result, error) {
	var servers []netip.Addr
	if r.Servers != nil {
		servers = r.Servers()
	}
	if len(servers) == 0 {
		return Result{}, &Error{Kind: NoServers, Name: name.String()}
	}
	timeout, attempts := r.Timeout, r.Attempts
	if timeout <= 0 {
		timeout = 1500 * time.Millisecond
	}
	if attempts <= 0 {
		attempts = 2
	}
	kind, last := Timeout, error(nil)
	for range attempts {
		for _, srv := range servers {
			if ctx.Err() != nil {
				return Result{}, &Error{Kind: Timeout, Name: name.String(), Err: ctx.Err()}
			}
			res, err := r.ask(ctx, srv, name, t, timeout)
			if err == nil {
				return res, nil
			}
			var de *Error
			if errors.As(err, &de) && (de.Kind == NotFound || de.Kind == NoData) {
				return Result{}, err // an authoritative "no": other servers would agree
			}
			last = err
			if r.Logf != nil {
				r.Logf("dns: %s %v at %v: %v", name, t, srv, err)
			}
			if !isTimeout(err) {
				kind = Failed
			}
		}
	}
	return Result{}, &Error{Kind: kind, Name: name.String(), Err: last}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ask sends one query to one server over UDP, then TCP if truncated.
func (r *Resolver) ask(ctx context.Context, srv netip.Addr, name dnsmessage.Name, t dnsmessage.Type, timeout time.Duration) (Result, error) {
	id := uint16(rand.Uint32())
	q, err := buildQuery(id, name, t)
	if err != nil {
		return Result{}, err
	}
	if r.exchange != nil {
		reply, err := r.exchange(q)
		if err != nil {
			return Result{}, err
		}
		res, _, err := parseAnswer(reply, id, name, t)
		return res, err
	}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	full, proto := fullAddr(srv)
	conn, err := gonet.DialUDP(r.Stack, nil, &full, proto)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write(q); err != nil {
		return Result{}, err
	}
	buf := make([]byte, maxUDP+512)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return Result{}, err
		}
		res, truncated, err := parseAnswer(buf[:n], id, name, t)
		if errors.Is(err, errNotOurs) {
			continue // stray or spoofed datagram: keep waiting
		}
		if truncated {
			return r.askTCP(ctx, srv, q, id, name, t, deadline.Add(timeout))
		}
		return res, err
	}
}

func (r *Resolver) askTCP(ctx context.Context, srv netip.Addr, q []byte, id uint16, name dnsmessage.Name, t dnsmessage.Type, deadline time.Time) (Result, error) {
	full, proto := fullAddr(srv)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err := gonet.DialContextTCP(dctx, r.Stack, full, proto)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(q)))
	if _, err := conn.Write(append(msg, q...)); err != nil {
		return Result{}, err
	}
	var l [2]byte
	if _, err := io.ReadFull(conn, l[:]); err != nil {
		return Result{}, err
	}
	body := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(conn, body); err != nil {
		return Result{}, err
	}
	res, _, err := parseAnswer(body, id, name, t)
	return res, err
}

// fullAddr is port 53 of a server; a zone (a link-local server learnt
// from a router advertisement) names the NIC to use.
func fullAddr(a netip.Addr) (tcpip.FullAddress, tcpip.NetworkProtocolNumber) {
	a = a.Unmap()
	if a.Is4() {
		return tcpip.FullAddress{Addr: tcpip.AddrFrom4(a.As4()), Port: 53}, ipv4.ProtocolNumber
	}
	nic, _ := strconv.Atoi(a.Zone())
	return tcpip.FullAddress{Addr: tcpip.AddrFrom16(a.As16()), Port: 53, NIC: tcpip.NICID(nic)}, ipv6.ProtocolNumber
}

func buildQuery(id uint16, name dnsmessage.Name, t dnsmessage.Type) ([]byte, error) {
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(dnsmessage.Question{Name: name, Type: t, Class: dnsmessage.ClassINET}); err != nil {
		return nil, err
	}
	if err := b.StartAdditionals(); err != nil {
		return nil, err
	}
	var opt dnsmessage.ResourceHeader
	if err := opt.SetEDNS0(maxUDP, dnsmessage.RCodeSuccess, false); err != nil {
		return nil, err
	}
	if err := b.OPTResource(opt, dnsmessage.OPTResource{}); err != nil {
		return nil, err
	}
	return b.Finish()
}

var errNotOurs = errors.New("dns: reply to another query")

// parseAnswer checks a reply against the query and collects the addresses
// of type t, following CNAMEs from name.
func parseAnswer(msg []byte, id uint16, name dnsmessage.Name, t dnsmessage.Type) (Result, bool, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return Result{}, false, &Error{Kind: Failed, Name: name.String(), Err: err}
	}
	if h.ID != id || !h.Response {
		return Result{}, false, errNotOurs
	}
	q, err := p.Question()
	if err != nil || !strings.EqualFold(q.Name.String(), name.String()) || q.Type != t {
		return Result{}, false, errNotOurs
	}
	if h.Truncated {
		return Result{}, true, nil
	}
	switch h.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return Result{}, false, &Error{Kind: NotFound, Name: name.String()}
	default:
		return Result{}, false, &Error{Kind: Failed, Name: name.String(), Err: errors.New(h.RCode.String())}
	}
	if err := p.SkipAllQuestions(); err != nil {
		return Result{}, false, &Error{Kind: Failed, Name: name.String(), Err: err}
	}
	canon := strings.ToLower(name.String())
	var addrs []netip.Addr
	for {
		rh, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			break
		}
		if err != nil {
			return Result{}, false, &Error{Kind: Failed, Name: name.String(), Err: err}
		}
		owner := strings.ToLower(rh.Name.String())
		switch {
		case rh.Type == dnsmessage.TypeCNAME && owner == canon:
			c, err := p.CNAMEResource()
			if err != nil {
				return Result{}, false, &Error{Kind: Failed, Name: name.String(), Err: err}
			}
			canon = strings.ToLower(c.CNAME.String())
		case rh.Type == t && t == dnsmessage.TypeA && owner == canon:
			a, err := p.AResource()
			if err != nil {
				return Result{}, false, &Error{Kind: Failed, Name: name.String(), Err: err}
			}
			addrs = append(addrs, netip.AddrFrom4(a.A))
		case rh.Type == t && t == dnsmessage.TypeAAAA && owner == canon:
			a, err := p.AAAAResource()
			if err != nil {
				return Result{}, false, &Error{Kind: Failed, Name: name.String(), Err: err}
			}
			addrs = append(addrs, netip.AddrFrom16(a.AAAA))
		default:
			if err := p.SkipAnswer(); err != nil {
				return Result{}, false, &Error{Kind: Failed, Name: name.String(), Err: err}
			}
		}
	}
	if len(addrs) == 0 {
		return Result{}, false, &Error{Kind: NoData, Name: name.String()}
	}
	return Result{Addrs: addrs, Canonical: strings.TrimSuffix(canon, ".")}, false, nil
}
