package dns

import (
	"net/netip"
	"sort"
)

// sortAddrs orders destinations as glibc does (RFC 3484 with its default
// policy table), from the source address the stack would use for each
// (Resolver.Source): usable first, then matching scope, matching label,
// higher precedence, smaller scope; ties keep their order. Rules needing
// information a stub does not have (deprecated or home addresses, native
// transport, longest prefix) are not applied. Without Source the order is
// left as found.
func (r *Resolver) sortAddrs(addrs []netip.Addr) []netip.Addr {
	if len(addrs) < 2 || r.Source == nil {
		return addrs
	}
	type dest struct {
		dst, src netip.Addr
		usable   bool
	}
	ds := make([]dest, len(addrs))
	for i, a := range addrs {
		src, ok := r.Source(a.WithZone(""))
		ds[i] = dest{dst: a, src: src, usable: ok}
	}
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.usable != b.usable { // rule 1
			return a.usable
		}
		if a.usable {
			am, bm := scopeOf(a.dst) == scopeOf(a.src), scopeOf(b.dst) == scopeOf(b.src) // rule 2
			if am != bm {
				return am
			}
			al, bl := labelOf(a.dst) == labelOf(a.src), labelOf(b.dst) == labelOf(b.src) // rule 5
			if al != bl {
				return al
			}
		}
		if pa, pb := precedenceOf(a.dst), precedenceOf(b.dst); pa != pb { // rule 6
			return pa > pb
		}
		return scopeOf(a.dst) < scopeOf(b.dst) // rule 8
	})
	out := make([]netip.Addr, len(ds))
	for i, d := range ds {
		out[i] = d.dst
	}
	return out
}

// scopeOf is the address's scope value (RFC 3484 section 3.1; IPv4
// loopback and link-local are link-local, the rest global).
func scopeOf(a netip.Addr) int {
	if a.Is4() || a.Is4In6() {
		b := a.Unmap().As4()
		if b[0] == 127 || (b[0] == 169 && b[1] == 254) {
			return 2
		}
		return 14
	}
	b := a.As16()
	switch {
	case b[0] == 0xff:
		return int(b[1] & 0x0f)
	case a.IsLoopback(), b[0] == 0xfe && b[1]&0xc0 == 0x80:
		return 2
	case b[0] == 0xfe && b[1]&0xc0 == 0xc0:
		return 5
	}
	return 14
}

type policy struct {
	prefix netip.Prefix
	value  int
}

// glibc's default tables (an /etc/gai.conf of comments only), longest
// prefix first.
var (
	labels = []policy{
		{netip.MustParsePrefix("::1/128"), 0},
		{netip.MustParsePrefix("::/96"), 3},
		{netip.MustParsePrefix("::ffff:0:0/96"), 4},
		{netip.MustParsePrefix("2001::/32"), 7},
		{netip.MustParsePrefix("2002::/16"), 2},
		{netip.MustParsePrefix("fec0::/10"), 5},
		{netip.MustParsePrefix("fc00::/7"), 6},
		{netip.MustParsePrefix("::/0"), 1},
	}
	precedences = []policy{
		{netip.MustParsePrefix("::1/128"), 50},
		{netip.MustParsePrefix("::/96"), 20},
		{netip.MustParsePrefix("::ffff:0:0/96"), 10},
		{netip.MustParsePrefix("2002::/16"), 30},
		{netip.MustParsePrefix("::/0"), 40},
	}
)

func lookupPolicy(table []policy, a netip.Addr) int {
	a = netip.AddrFrom16(a.As16()) // IPv4 as v4-mapped
	for _, p := range table {
		if p.prefix.Contains(a) {
			return p.value
		}
	}
	return 0
}

func labelOf(a netip.Addr) int      { return lookupPolicy(labels, a) }
func precedenceOf(a netip.Addr) int { return lookupPolicy(precedences, a) }
