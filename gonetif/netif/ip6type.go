package netif

import "net/netip"

// IP6Kind is esp_netif_ip6_get_addr_type's answer; the values are IDF's
// esp_ip6_addr_type_t (capi checks them at build time).
type IP6Kind int

const (
	IP6Unknown IP6Kind = iota
	IP6Global
	IP6LinkLocal
	IP6SiteLocal
	IP6UniqueLocal
	IP6V4Mapped
)

// IP6AddrType classifies a by its prefix only, as lwIP does: fe80::/10,
// fec0::/10, fc00::/7, ::ffff:0:0/96, 2000::/3, anything else unknown
// (including the unspecified, loopback and multicast addresses).
func IP6AddrType(a [16]byte) IP6Kind {
	switch {
	case a[0] == 0xfe && a[1]&0xc0 == 0x80:
		return IP6LinkLocal
	case a[0] == 0xfe && a[1]&0xc0 == 0xc0:
		return IP6SiteLocal
	case a[0]&0xfe == 0xfc:
		return IP6UniqueLocal
	case netip.AddrFrom16(a).Is4In6():
		return IP6V4Mapped
	case a[0]&0xe0 == 0x20:
		return IP6Global
	}
	return IP6Unknown
}
