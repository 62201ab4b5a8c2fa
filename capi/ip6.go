package main

/*
#include <stdint.h>
*/
import "C"

import (
	"net/netip"
	"unsafe"

	"gonetif.dev/gonetif/netif"
)

//export gonetif_netif_create_ip6_linklocal
func gonetif_netif_create_ip6_linklocal(id C.int) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	return espErr(cn.n.CreateIP6LinkLocal())
}

// gonetif_netif_ip6_addrs writes up to max addresses (16 bytes each, zone
// in zones) of the given kind (a netif.IP6Filter) and returns how many.
//
//export gonetif_netif_ip6_addrs
func gonetif_netif_ip6_addrs(id C.int, kind C.int, out *C.uint8_t, zones *C.int, maxN C.int) C.int {
	cn, ok := netifs.get(int(id))
	if !ok || out == nil || maxN <= 0 {
		return 0
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(out)), int(maxN)*16)
	zs := unsafe.Slice((*C.int)(unsafe.Pointer(zones)), int(maxN))
	addrs := cn.n.IP6AddrsOf(netif.IP6Filter(kind))
	n := min(len(addrs), int(maxN))
	for i, a := range addrs[:n] {
		b := a.Addr.As16()
		copy(dst[i*16:], b[:])
		zs[i] = C.int(a.Zone)
	}
	return C.int(n)
}

func ip6Of(p *C.uint8_t) netip.Addr {
	return netip.AddrFrom16([16]byte(C.GoBytes(unsafe.Pointer(p), 16)))
}

// gonetif_netif_ip6_addr adds (add = 1, preferred or not) or removes an
// IPv6 address.
//
//export gonetif_netif_ip6_addr
func gonetif_netif_ip6_addr(id C.int, addr *C.uint8_t, add, preferred C.int) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil || addr == nil {
		return rc
	}
	if add != 0 {
		return espErr(cn.n.AddIP6(ip6Of(addr), preferred != 0))
	}
	return espErr(cn.n.RemoveIP6(ip6Of(addr)))
}

//export gonetif_netif_ip6_mcast
func gonetif_netif_ip6_mcast(id C.int, addr *C.uint8_t, join C.int) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil || addr == nil {
		return rc
	}
	return espErr(cn.n.JoinIP6Group(ip6Of(addr), join != 0))
}

// gonetif_netif_arp_lookup finds the IPv4 address of a MAC in the ARP
// table; ESP_FAIL when absent.
//
//export gonetif_netif_arp_lookup
func gonetif_netif_arp_lookup(id C.int, mac *C.uint8_t, ip *C.uint32_t) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil || mac == nil || ip == nil {
		return rc
	}
	a, ok := cn.n.NeighborIP4(goMAC(mac))
	if !ok {
		return espFail
	}
	*ip = ip4Value(a)
	return espOK
}

// gonetif_ip6_addr_type is esp_netif_ip6_get_addr_type on 16 bytes.
//
//export gonetif_ip6_addr_type
func gonetif_ip6_addr_type(addr *C.uint8_t) C.int {
	return C.int(netif.IP6AddrType([16]byte(unsafe.Slice((*byte)(unsafe.Pointer(addr)), 16))))
}
