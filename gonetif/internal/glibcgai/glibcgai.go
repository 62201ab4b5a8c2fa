// Package glibcgai calls the C library's own getaddrinfo, for tests that
// use it as the oracle of gonetif's (gonetif/dns.GetAddrInfo). It is never
// linked into the library.
package glibcgai

/*
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int gai(const char *node, const char *service, int flags, int family, int socktype, int protocol,
               int use_hints, struct addrinfo **res)
{
    struct addrinfo h;
    memset(&h, 0, sizeof(h));
    h.ai_flags = flags;
    h.ai_family = family;
    h.ai_socktype = socktype;
    h.ai_protocol = protocol;
    return getaddrinfo(node, service, use_hints ? &h : NULL, res);
}
*/
import "C"

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"unsafe"
)

// Entry is one addrinfo of the answer, as plain Go values.
type Entry struct {
	Family, SockType, Protocol int
	Addr                       netip.Addr // IPv6 scope id as a numeric zone
	Port                       uint16
	CanonName                  string
}

// Hints are the fields of struct addrinfo a caller sets; Nil passes NULL.
type Hints struct {
	Flags, Family, SockType, Protocol int
	Nil                               bool
}

// GetAddrInfo returns glibc's answer and its return code (0 or EAI_*);
// a nil node or service is passed as NULL.
func GetAddrInfo(node, service *string, h Hints) ([]Entry, int) {
	var cnode, cservice *C.char
	if node != nil {
		cnode = C.CString(*node)
		defer C.free(unsafe.Pointer(cnode))
	}
	if service != nil {
		cservice = C.CString(*service)
		defer C.free(unsafe.Pointer(cservice))
	}
	useHints := C.int(1)
	if h.Nil {
		useHints = 0
	}
	var res *C.struct_addrinfo
	rc := C.gai(cnode, cservice, C.int(h.Flags), C.int(h.Family), C.int(h.SockType), C.int(h.Protocol), useHints, &res)
	if rc != 0 {
		return nil, int(rc)
	}
	defer C.freeaddrinfo(res)
	var out []Entry
	for ai := res; ai != nil; ai = ai.ai_next {
		e := Entry{Family: int(ai.ai_family), SockType: int(ai.ai_socktype), Protocol: int(ai.ai_protocol)}
		if ai.ai_canonname != nil {
			e.CanonName = C.GoString(ai.ai_canonname)
		}
		raw := C.GoBytes(unsafe.Pointer(ai.ai_addr), C.int(ai.ai_addrlen))
		switch e.Family {
		case C.AF_INET:
			e.Port = binary.BigEndian.Uint16(raw[2:4])
			e.Addr = netip.AddrFrom4([4]byte(raw[4:8]))
		case C.AF_INET6:
			e.Port = binary.BigEndian.Uint16(raw[2:4])
			a := netip.AddrFrom16([16]byte(raw[8:24]))
			if scope := binary.NativeEndian.Uint32(raw[24:28]); scope != 0 {
				a = a.WithZone(strconv.FormatUint(uint64(scope), 10))
			}
			e.Addr = a
		}
		out = append(out, e)
	}
	return out, 0
}
