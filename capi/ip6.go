package main

/*
#include <stdint.h>
*/
import "C"

import (
	"unsafe"
)

// Which addresses gonetif_netif_ip6_addrs returns.
const (
	ip6All = iota
	ip6LinkLocal
	ip6Global
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
// in zones) of the given kind and returns how many.
//
//export gonetif_netif_ip6_addrs
func gonetif_netif_ip6_addrs(id C.int, kind C.int, out *C.uint8_t, zones *C.int, maxN C.int) C.int {
	cn, ok := netifs.get(int(id))
	if !ok || out == nil || maxN <= 0 {
		return 0
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(out)), int(maxN)*16)
	zs := unsafe.Slice((*C.int)(unsafe.Pointer(zones)), int(maxN))
	n := 0
	for _, a := range cn.n.IP6Addrs() {
		if n >= int(maxN) {
			break
		}
		ll := a.IsLinkLocalUnicast()
		if (kind == ip6LinkLocal && !ll) || (kind == ip6Global && !a.IsGlobalUnicast()) {
			continue
		}
		b := a.As16()
		copy(dst[n*16:], b[:])
		zs[n] = 0
		if ll {
			zs[n] = C.int(cn.n.NICID())
		}
		n++
	}
	return C.int(n)
}
