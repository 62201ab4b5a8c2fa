package dns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Values of the Linux ABI that getaddrinfo speaks (glibc's <netdb.h> and
// <sys/socket.h>); capi checks them against the C headers at compile time.
const (
	AFUnspec = 0
	AFInet   = 2
	AFInet6  = 10

	SockStream    = 1
	SockDgram     = 2
	SockRaw       = 3
	SockSeqPacket = 5
	SockDCCP      = 6

	ProtoTCP     = 6
	ProtoUDP     = 17
	ProtoDCCP    = 33
	ProtoSCTP    = 132
	ProtoUDPLite = 136

	AIPassive     = 0x0001
	AICanonName   = 0x0002
	AINumericHost = 0x0004
	AIV4Mapped    = 0x0008
	AIAll         = 0x0010
	AIAddrConfig  = 0x0020
	AIIDN         = 0x0040 // accepted; names are used as given (ASCII)
	AICanonIDN    = 0x0080
	AINumericServ = 0x0400
)

// EAI_* codes (negative, as glibc's).
const (
	EAIBadFlags   = -1
	EAINoName     = -2
	EAIAgain      = -3
	EAIFail       = -4
	EAINoData     = -5
	EAIFamily     = -6
	EAISockType   = -7
	EAIService    = -8
	EAIAddrFamily = -9
	EAIMemory     = -10
	EAISystem     = -11
	EAIOverflow   = -12
)

const knownFlags = AIPassive | AICanonName | AINumericHost | AIV4Mapped | AIAll | AIAddrConfig | AIIDN | AICanonIDN |
	AINumericServ

// Hints are struct addrinfo's request fields.
type Hints struct {
	Flags, Family, SockType, Protocol int
}

// DefaultHints is what a NULL hints pointer means (glibc, and POSIX's
// recommendation).
var DefaultHints = Hints{Flags: AIV4Mapped | AIAddrConfig}

// AddrInfo is one entry of a getaddrinfo answer. An IPv6 scope id is the
// address's zone, in decimal.
type AddrInfo struct {
	Family, SockType, Protocol int
	Addr                       netip.AddrPort
	CanonName                  string // first entry only, with AICanonName
}

// ScopeID is the entry's IPv6 scope id (its zone, a decimal number);
// 0 without one.
func (ai AddrInfo) ScopeID() uint32 {
	id, err := strconv.ParseUint(ai.Addr.Addr().Zone(), 10, 32)
	if err != nil {
		return 0
	}
	return uint32(id)
}

// GaiError is the error of GetAddrInfo: Code is the EAI_* value a C
// caller gets.
type GaiError struct {
	Code int
	Op   string // what failed, for the log
	Err  error  // the resolver's error behind it, may be nil
}

func (e *GaiError) Error() string {
	s := "getaddrinfo: " + e.Op
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *GaiError) Unwrap() error { return e.Err }

func gaiErr(code int, op string) error { return &GaiError{Code: code, Op: op} }

// typeProto is glibc's table of the socket types and protocols a
// getaddrinfo answer can carry; the default ones are returned when the
// hints name neither.
type typeProto struct {
	sockType, protocol int
	service            string // the /etc/services protocol column
	anyProto           bool   // any protocol number is accepted (raw)
	noService          bool   // a service makes no sense (raw)
	byDefault          bool
}

var typeProtos = []typeProto{
	{sockType: SockStream, protocol: ProtoTCP, service: "tcp", byDefault: true},
	{sockType: SockDgram, protocol: ProtoUDP, service: "udp", byDefault: true},
	{sockType: SockDCCP, protocol: ProtoDCCP, service: "dccp"},
	{sockType: SockDgram, protocol: ProtoUDPLite, service: "udplite"},
	{sockType: SockStream, protocol: ProtoSCTP, service: "sctp"},
	{sockType: SockSeqPacket, protocol: ProtoSCTP, service: "sctp"},
	{sockType: SockRaw, service: "raw", anyProto: true, noService: true, byDefault: true},
}

// servicePort is one socket type/protocol the answer lists, with its port.
type servicePort struct {
	sockType, protocol int
	port               uint16
}

// Query is a getaddrinfo request checked and split into its parts; Run
// completes it. Local reports whether Run needs no DNS server.
type Query struct {
	r       *Resolver
	node    string
	hasNode bool
	hints   Hints
	ports   []servicePort
	addrs   []netip.Addr // numeric or wildcard answer, already known
	canon   string
	known   bool // addrs is the answer
}

// GetAddrInfo resolves node and service as getaddrinfo(3) does on Linux:
// nil stands for a NULL pointer, hints nil for NULL hints. Numeric hosts,
// the wildcard and "localhost" are answered at once; other names go to the
// DNS servers. The error is a *GaiError.
func (r *Resolver) GetAddrInfo(ctx context.Context, node, service *string, hints *Hints) ([]AddrInfo, error) {
	q, err := r.NewQuery(node, service, hints)
	if err != nil {
		return nil, err
	}
	return q.Run(ctx)
}

// NewQuery checks a getaddrinfo request and resolves what needs no server:
// the hints, the service, a numeric or absent node.
func (r *Resolver) NewQuery(node, service *string, hints *Hints) (*Query, error) {
	h := DefaultHints
	if hints != nil {
		h = *hints
	}
	// "*" stands for NULL, as in glibc.
	if node != nil && *node == "*" {
		node = nil
	}
	if service != nil && *service == "*" {
		service = nil
	}
	if node == nil && service == nil {
		return nil, gaiErr(EAINoName, "neither node nor service")
	}
	if service != nil && *service == "" {
		service = nil // glibc: an empty service is port 0, even for raw
	}
	if h.Flags&^knownFlags != 0 {
		return nil, gaiErr(EAIBadFlags, "unknown flags 0x"+strconv.FormatInt(int64(h.Flags), 16))
	}
	if h.Flags&AICanonName != 0 && node == nil {
		return nil, gaiErr(EAIBadFlags, "AI_CANONNAME without a node")
	}
	if h.Family != AFUnspec && h.Family != AFInet && h.Family != AFInet6 {
		return nil, gaiErr(EAIFamily, "family "+strconv.Itoa(h.Family))
	}
	if h.Flags&AIAddrConfig != 0 && r.AddrConfig != nil {
		// Only non-loopback addresses count; with one family configured
		// the request narrows to it, with none it is left alone.
		v4, v6 := r.AddrConfig()
		switch {
		case h.Family == AFUnspec && v4 != v6:
			h.Family = AFInet6
			if v4 {
				h.Family = AFInet
			}
		case h.Family == AFInet && !v4, h.Family == AFInet6 && !v6:
			return nil, gaiErr(EAINoName, "AI_ADDRCONFIG: no address of that family configured")
		}
	}
	q := &Query{r: r, hints: h}
	if node != nil {
		q.node, q.hasNode = *node, true
	}
	ports, err := servicePorts(service, h)
	if err != nil {
		return nil, err
	}
	q.ports = ports
	if err := q.numeric(); err != nil {
		return nil, err
	}
	return q, nil
}

// Local reports whether Run answers without asking a DNS server.
func (q *Query) Local() bool { return q.known }

// servicePorts is the list of socket types the answer carries and their
// port, from the hints and the service (a number or a name looked up in
// /etc/services by Go's standard library).
func servicePorts(service *string, h Hints) ([]servicePort, error) {
	var chosen []typeProto
	if h.SockType != 0 || h.Protocol != 0 {
		for _, tp := range typeProtos {
			if (h.SockType == 0 || h.SockType == tp.sockType) && (h.Protocol == 0 || tp.anyProto || h.Protocol == tp.protocol) {
				chosen = append(chosen, tp)
				break
			}
		}
		if len(chosen) == 0 {
			if h.SockType != 0 {
				return nil, gaiErr(EAISockType, "socket type "+strconv.Itoa(h.SockType)+" with protocol "+strconv.Itoa(h.Protocol))
			}
			return nil, gaiErr(EAIService, "protocol "+strconv.Itoa(h.Protocol))
		}
	} else {
		for _, tp := range typeProtos {
			if tp.byDefault {
				chosen = append(chosen, tp)
			}
		}
	}
	protoOf := func(tp typeProto) int {
		if tp.anyProto {
			return h.Protocol
		}
		return tp.protocol
	}
	var out []servicePort
	if service == nil {
		for _, tp := range chosen {
			out = append(out, servicePort{tp.sockType, protoOf(tp), 0})
		}
		return out, nil
	}
	if len(chosen) == 1 && chosen[0].noService {
		return nil, gaiErr(EAIService, "a service with a raw socket")
	}
	port, numeric := strtoul(*service)
	if !numeric && h.Flags&AINumericServ != 0 {
		return nil, gaiErr(EAINoName, "AI_NUMERICSERV with service "+strconv.Quote(*service))
	}
	// glibc keeps the number in an int: negative ones are looked up as
	// names (and not found), the others truncated to 16 bits.
	if numeric && int32(uint32(port)) >= 0 {
		for _, tp := range chosen {
			out = append(out, servicePort{tp.sockType, protoOf(tp), uint16(port)})
		}
		return out, nil
	}
	for _, tp := range chosen {
		if tp.noService {
			continue
		}
		if port, ok := namedService(*service, tp.service); ok {
			out = append(out, servicePort{tp.sockType, protoOf(tp), port})
		}
	}
	if len(out) == 0 {
		return nil, gaiErr(EAIService, "unknown service "+strconv.Quote(*service))
	}
	return out, nil
}

// strtoul is C's strtoul(s, &end, 10) with *end == '\0' required, on a
// 64-bit unsigned long.
func strtoul(s string) (uint64, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	overflow := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (^uint64(0)-d)/10 {
			overflow = true
		}
		v = v*10 + d
	}
	if i == start {
		// No digits: strtoul leaves end at the start of the string, so
		// only "" itself counts as fully consumed (value 0).
		return 0, len(s) == 0
	}
	if i != len(s) {
		return 0, false
	}
	if overflow {
		v = ^uint64(0)
	} else if neg {
		v = -v
	}
	return v, true
}

// goServices looks names up in /etc/services (Go's own reader, never NSS).
var goServices = &net.Resolver{PreferGo: true}

// namedService finds a service for one protocol. Go's table is keyed in
// lower case; glibc compares names exactly, so a name with upper case
// letters is not found, as in glibc with Debian's all-lower-case file.
func namedService(name, proto string) (uint16, bool) {
	if proto != "tcp" && proto != "udp" {
		return 0, false // Go's reader keeps only these two
	}
	if name == "" || strings.ToLower(name) != name {
		return 0, false
	}
	port, err := goServices.LookupPort(context.Background(), proto, name)
	if err != nil || port < 0 || port > 65535 {
		return 0, false
	}
	return uint16(port), true
}

// numeric answers a node that needs no lookup: absent, an IPv4 address in
// any inet_aton form, or an IPv6 address with an optional %scope.
func (q *Query) numeric() error {
	h := q.hints
	if !q.hasNode {
		var v4, v6 netip.Addr = netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()
		if h.Flags&AIPassive != 0 {
			v4, v6 = netip.IPv4Unspecified(), netip.IPv6Unspecified()
		}
		if h.Family != AFInet {
			q.addrs = append(q.addrs, v6)
		}
		if h.Family != AFInet6 {
			q.addrs = append(q.addrs, v4)
		}
		q.known = true
		return nil
	}
	if a, ok := inetAton(q.node); ok {
		switch {
		case h.Family == AFUnspec || h.Family == AFInet:
			q.addrs = []netip.Addr{a}
		case h.Flags&AIV4Mapped != 0:
			q.addrs = []netip.Addr{netip.AddrFrom16(a.As16())}
		default:
			return gaiErr(EAIAddrFamily, "IPv4 address "+q.node+" asked as IPv6")
		}
		q.canon, q.known = q.node, true
		return nil
	}
	host, scope, hasScope := strings.Cut(q.node, "%")
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() && a.Zone() == "" {
		switch {
		case h.Family == AFUnspec || h.Family == AFInet6:
		case h.Family == AFInet && a.Is4In6():
			a = a.Unmap()
		default:
			return gaiErr(EAIAddrFamily, "IPv6 address "+host+" asked as IPv4")
		}
		if hasScope {
			id, ok := q.r.scopeID(a, scope)
			if !ok {
				return gaiErr(EAINoName, "unknown scope "+strconv.Quote(scope))
			}
			a = a.WithZone(strconv.FormatUint(uint64(id), 10))
		}
		q.addrs, q.canon, q.known = []netip.Addr{a}, q.node, true
		return nil
	}
	if h.Flags&AINumericHost != 0 {
		return gaiErr(EAINoName, "AI_NUMERICHOST with name "+strconv.Quote(q.node))
	}
	if isLocalhost(q.node) {
		// RFC 6761: localhost is loopback, never asked of a server. It
		// takes the same AF_INET6 mapping rules as a looked-up name.
		addrs, canon, err := q.resolve(func(family int) (Result, error) {
			var res Result
			if family != 6 {
				res.Addrs = append(res.Addrs, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
			}
			if family != 4 {
				res.Addrs = append(res.Addrs, netip.IPv6Loopback())
			}
			res.Canonical = "localhost"
			return res, nil
		})
		if err != nil {
			return err
		}
		q.addrs, q.canon, q.known = addrs, canon, true
	}
	return nil
}

func isLocalhost(name string) bool {
	return strings.EqualFold(strings.TrimSuffix(name, "."), "localhost")
}

// scopeID reads an IPv6 scope: an interface name of ours for link-local
// addresses, else (or when no interface has that name) a decimal number.
func (r *Resolver) scopeID(a netip.Addr, scope string) (uint32, bool) {
	if (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast()) && r.InterfaceIndex != nil {
		if id, ok := r.InterfaceIndex(scope); ok && id > 0 {
			return uint32(id), true
		}
	}
	if scope == "" || scope[0] < '0' || scope[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseUint(scope, 10, 32)
	return uint32(v), err == nil
}

// inetAton parses the forms of inet_aton(3): one to four parts, each
// decimal, octal (leading 0) or hexadecimal (0x), the last filling the
// remaining bytes; nothing may follow.
func inetAton(s string) (netip.Addr, bool) {
	var parts []uint64
	for i := 0; ; {
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return netip.Addr{}, false
		}
		base, j := uint64(10), i
		if s[j] == '0' {
			base, j = 8, j+1
			if j < len(s) && (s[j] == 'x' || s[j] == 'X') {
				base, j = 16, j+1
				if _, ok := digit(at(s, j), 16); !ok {
					return netip.Addr{}, false // "0x" needs a digit
				}
			}
		}
		var v uint64
		for ; j < len(s); j++ {
			d, ok := digit(s[j], base)
			if !ok {
				break
			}
			v = v*base + d
			if v > 0xffffffff {
				return netip.Addr{}, false
			}
		}
		parts = append(parts, v)
		if j == len(s) {
			break
		}
		if s[j] != '.' || len(parts) == 4 {
			return netip.Addr{}, false
		}
		i = j + 1
	}
	last := parts[len(parts)-1]
	var v uint32
	for k, p := range parts[:len(parts)-1] {
		if p > 0xff {
			return netip.Addr{}, false
		}
		v |= uint32(p) << (24 - 8*k)
	}
	if last > 0xffffffff>>(8*(len(parts)-1)) {
		return netip.Addr{}, false
	}
	v |= uint32(last)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func digit(c byte, base uint64) (uint64, bool) {
	var d uint64
	switch {
	case c >= '0' && c <= '9':
		d = uint64(c - '0')
	case base == 16 && c >= 'a' && c <= 'f':
		d = uint64(c-'a') + 10
	case base == 16 && c >= 'A' && c <= 'F':
		d = uint64(c-'A') + 10
	default:
		return 0, false
	}
	if d >= base {
		return 0, false
	}
	return d, true
}

// Run completes the query: a name is looked up (localhost answers itself),
// then the addresses are filtered by family, ordered and paired with each
// socket type.
func (q *Query) Run(ctx context.Context) ([]AddrInfo, error) {
	addrs, canon := q.addrs, q.canon
	if !q.known {
		var err error
		addrs, canon, err = q.lookup(ctx)
		if err != nil {
			return nil, err
		}
	}
	addrs = q.r.sortAddrs(addrs)
	out := make([]AddrInfo, 0, len(addrs)*len(q.ports))
	for _, a := range addrs {
		fam := AFInet6
		if a.Is4() {
			fam = AFInet
		}
		for _, sp := range q.ports {
			out = append(out, AddrInfo{Family: fam, SockType: sp.sockType, Protocol: sp.protocol,
				Addr: netip.AddrPortFrom(a, sp.port)})
		}
	}
	if q.hints.Flags&AICanonName != 0 && len(out) > 0 {
		out[0].CanonName = canon
		if canon == "" {
			out[0].CanonName = q.node
		}
	}
	return out, nil
}

// lookup resolves a name through the DNS servers.
func (q *Query) lookup(ctx context.Context) ([]netip.Addr, string, error) {
	return q.resolve(func(family int) (Result, error) { return q.r.Lookup(ctx, q.node, family) })
}

// resolve applies the family, AI_V4MAPPED and AI_ALL to a lookup function.
func (q *Query) resolve(find func(family int) (Result, error)) ([]netip.Addr, string, error) {
	h := q.hints
	family := map[int]int{AFUnspec: 0, AFInet: 4, AFInet6: 6}[h.Family]
	mapped := h.Family == AFInet6 && h.Flags&AIV4Mapped != 0
	if mapped && h.Flags&AIAll != 0 {
		family = 0
	}
	res, err := find(family)
	if mapped && h.Flags&AIAll == 0 && noAddress(err) {
		res, err = find(4)
	}
	if err != nil {
		return nil, "", lookupErr(err)
	}
	addrs := res.Addrs
	if mapped {
		addrs = make([]netip.Addr, len(res.Addrs))
		for i, a := range res.Addrs {
			addrs[i] = netip.AddrFrom16(a.As16())
		}
	}
	return addrs, res.Canonical, nil
}

func noAddress(err error) bool {
	var de *Error
	return errors.As(err, &de) && (de.Kind == NoData || de.Kind == NotFound)
}

// lookupErr gives a resolver error the code glibc reports for the same
// situation.
func lookupErr(err error) error {
	code := EAISystem
	var de *Error
	if errors.As(err, &de) {
		switch de.Kind {
		case NotFound, BadName:
			code = EAINoName
		case NoData:
			code = EAINoData
		case Timeout, NoServers, Failed:
			code = EAIAgain
		}
	}
	return &GaiError{Code: code, Op: "lookup", Err: err}
}
