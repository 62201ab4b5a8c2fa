package main

/*
#include <stdint.h>
#include <string.h>
*/
import "C"

import (
	"net/netip"
	"unsafe"

	"gonetif.dev/gonetif/netif"
)

// esp_netif_dhcp_option_mode_t.
const (
	dhcpOpSet = 1
	dhcpOpGet = 2
)

//export gonetif_netif_dhcpc_start
func gonetif_netif_dhcpc_start(id C.int) C.int {
	return onNetif(id, espErrInvalidArg, (*netif.Netif).DHCPStart)
}

//export gonetif_netif_dhcpc_stop
func gonetif_netif_dhcpc_stop(id C.int) C.int {
	return onNetif(id, espErrInvalidArg, (*netif.Netif).DHCPStop)
}

//export gonetif_netif_dhcpc_status
func gonetif_netif_dhcpc_status(id C.int) C.int {
	return dhcpStatus(id, (*netif.Netif).DHCPClientStatus)
}

//export gonetif_netif_dhcps_status
func gonetif_netif_dhcps_status(id C.int) C.int {
	return dhcpStatus(id, (*netif.Netif).DHCPServerStatus)
}

// dhcpStatus is esp_netif_dhcp_status_t, or the negated esp_err_t.
func dhcpStatus(id C.int, status func(*netif.Netif) (netif.DHCPStatus, error)) C.int {
	cn, _ := lookupNetif(id)
	if cn == nil {
		return -espErrInvalidArg
	}
	st, err := status(cn.n)
	if err != nil {
		return -espErr(err)
	}
	return C.int(st)
}

//export gonetif_netif_dhcps_start
func gonetif_netif_dhcps_start(id C.int) C.int {
	return onNetif(id, espErrInvalidArg, (*netif.Netif).DHCPServerStart)
}

//export gonetif_netif_dhcps_stop
func gonetif_netif_dhcps_stop(id C.int) C.int {
	return onNetif(id, espErrInvalidArg, (*netif.Netif).DHCPServerStop)
}

//export gonetif_netif_dhcps_option
func gonetif_netif_dhcps_option(id C.int) C.int {
	return onNetif(id, netifInvalidParams, (*netif.Netif).DHCPServerOption)
}

//export gonetif_netif_dhcpc_option
func gonetif_netif_dhcpc_option(id, mode, opt C.int, val unsafe.Pointer, length C.uint32_t) C.int {
	cn, _ := lookupNetif(id)
	if cn == nil || val == nil {
		return netifInvalidParams
	}
	// Never more of the caller's buffer than an option and its NUL.
	buf := unsafe.Slice((*byte)(val), min(uint32(length), netif.MaxDHCPOptionLen+1))
	switch mode {
	case dhcpOpGet:
		return espErr(cn.n.DHCPOptionGet(int(opt), buf))
	case dhcpOpSet:
		return espErr(cn.n.DHCPOptionSet(int(opt), buf, uint32(length)))
	}
	return netifInvalidParams
}

// gonetif_dns_set stores a DNS server slot: family 4 or 6 with the address
// bytes (network order); any other family is invalid.
//
//export gonetif_dns_set
func gonetif_dns_set(slot, family C.int, addr *C.uint8_t) C.int {
	s, err := ensureStack()
	if err != nil {
		return espErr(err)
	}
	var a netip.Addr
	switch family {
	case 4:
		a = netip.AddrFrom4([4]byte(C.GoBytes(unsafe.Pointer(addr), 4)))
	case 6:
		a = netip.AddrFrom16([16]byte(C.GoBytes(unsafe.Pointer(addr), 16)))
	default:
		return netifInvalidParams
	}
	return espErr(s.Netifs.SetDNS(int(slot), a))
}

// gonetif_dns_get returns the family (0 when empty) and fills 16 bytes.
//
//export gonetif_dns_get
func gonetif_dns_get(slot C.int, addr *C.uint8_t) C.int {
	s, err := ensureStack()
	if err != nil {
		return 0
	}
	a := s.Netifs.DNS(int(slot))
	out := unsafe.Slice((*byte)(unsafe.Pointer(addr)), 16)
	clear(out)
	switch {
	case a.Is4():
		b := a.As4()
		copy(out, b[:])
		return 4
	case a.Is6():
		b := a.As16()
		copy(out, b[:])
		return 6
	}
	return 0
}
