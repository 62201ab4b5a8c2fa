package main

/*
#include <stdint.h>
#include <string.h>
*/
import "C"

import (
	"encoding/binary"
	"net/netip"
	"time"
	"unsafe"

	"gonetif.dev/gonetif/netif"
)

// esp_netif_dhcp_option_mode_t and the option ids esp_netif_dhcpc_option
// understands.
const (
	dhcpOpSet = 1
	dhcpOpGet = 2

	dhcpOptRequestedIP = 50
	dhcpOptRetryTime   = 52
	dhcpOptVendorClass = 60
)

//export gonetif_netif_dhcpc_start
func gonetif_netif_dhcpc_start(id C.int) C.int {
	cn, _ := lookupNetif(id)
	if cn == nil {
		return espErrInvalidArg
	}
	return espErr(cn.n.DHCPStart())
}

//export gonetif_netif_dhcpc_stop
func gonetif_netif_dhcpc_stop(id C.int) C.int {
	cn, _ := lookupNetif(id)
	if cn == nil {
		return espErrInvalidArg
	}
	return espErr(cn.n.DHCPStop())
}

//export gonetif_netif_dhcpc_status
func gonetif_netif_dhcpc_status(id C.int) C.int {
	cn, _ := lookupNetif(id)
	if cn == nil {
		return -espErrInvalidArg
	}
	return C.int(cn.n.DHCPStatus())
}

//export gonetif_netif_dhcpc_option
func gonetif_netif_dhcpc_option(id, mode, opt C.int, val unsafe.Pointer, length C.uint32_t) C.int {
	cn, _ := lookupNetif(id)
	if cn == nil || val == nil {
		return netifInvalidParams
	}
	// Every value fits in a DHCP option (at most 255 bytes, 256 with a
	// string's NUL): never look further into the caller's buffer than
	// that, whatever length it claims. A larger buffer to read into is fine.
	if mode == dhcpOpSet && length > netif.MaxDHCPOptionLen+1 {
		logf(logError, "%s: esp_netif_dhcpc_option: length %d is more than a DHCP option holds (%d)",
			cn.n.Key(), uint32(length), netif.MaxDHCPOptionLen)
		return netifInvalidParams
	}
	o := cn.n.DHCPOptions()
	buf := unsafe.Slice((*byte)(val), min(int(length), netif.MaxDHCPOptionLen+1))
	switch mode {
	case dhcpOpGet:
		switch opt {
		case dhcpOptRetryTime:
			if length < 4 {
				return netifInvalidParams
			}
			binary.NativeEndian.PutUint32(buf, uint32(o.RetryTime/time.Second))
		case dhcpOptVendorClass:
			if int(length) < len(o.VendorClass)+1 {
				return netifInvalidParams
			}
			copy(buf, o.VendorClass)
			buf[len(o.VendorClass)] = 0
		case dhcpOptRequestedIP:
			if length < 4 {
				return netifInvalidParams
			}
			binary.NativeEndian.PutUint32(buf, uint32(ip4Value(o.Requested)))
		default:
			return netifInvalidParams
		}
		return espOK
	case dhcpOpSet:
		switch opt {
		case dhcpOptRetryTime:
			if length != 4 {
				return netifInvalidParams
			}
			o.RetryTime = time.Duration(binary.NativeEndian.Uint32(buf)) * time.Second
		case dhcpOptVendorClass:
			o.VendorClass = string(buf)
			if i := indexZero(buf); i >= 0 {
				o.VendorClass = string(buf[:i])
			}
		case dhcpOptRequestedIP:
			if length != 4 {
				return netifInvalidParams
			}
			o.Requested = ip4(C.uint32_t(binary.NativeEndian.Uint32(buf)))
		default:
			return netifInvalidParams
		}
		return espErr(cn.n.SetDHCPOptions(o))
	}
	return netifInvalidParams
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
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
