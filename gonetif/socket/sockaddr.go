package socket

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Linux's rules for the address arguments of bind, connect, sendto,
// accept, recvfrom, getsockname and getpeername, on the bytes a C caller
// passed. capi only turns its pointers into an AddrArg or an AddrOut.

// AddrArg is an address a caller passes in: B the bytes at its pointer
// (nil for NULL; at most min(Len, MaxSockaddr) of them are read) and Len
// the length it claims.
type AddrArg struct {
	B   []byte
	Len uint32
}

// sin6LenRFC2133 is the shortest sockaddr_in6 Linux takes: the one
// before sin6_scope_id existed.
const sin6LenRFC2133 = 24

// checkLen is Linux's copy-in check: a negative (as a C int) or
// too long length is EINVAL before any byte is read.
func (a AddrArg) checkLen() error {
	if int32(a.Len) < 0 || a.Len > MaxSockaddr {
		return unix.EINVAL
	}
	return nil
}

// bytes is the copied-in address: nil pointer with a length is EFAULT.
func (a AddrArg) bytes() ([]byte, error) {
	if err := a.checkLen(); err != nil {
		return nil, err
	}
	if a.Len == 0 {
		return []byte{}, nil // Linux copies nothing, so NULL is no fault
	}
	if a.B == nil {
		return nil, unix.EFAULT
	}
	if len(a.B) < int(a.Len) {
		return nil, unix.EFAULT
	}
	return a.B[:a.Len], nil
}

// family is the address's sa_family, or -1 when it is too short to hold one.
func family(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	return int(binary.NativeEndian.Uint16(b))
}

// parseFamily decodes a sockaddr_in or sockaddr_in6 for a socket of the
// given family, with Linux's checks in Linux's order: the family's
// shortest length, then the family itself.
func parseFamily(sockFamily int, b []byte) (tcpip.FullAddress, error) {
	switch sockFamily {
	case unix.AF_INET:
		if len(b) < unix.SizeofSockaddrInet4 {
			return tcpip.FullAddress{}, unix.EINVAL
		}
		if family(b) != unix.AF_INET {
			return tcpip.FullAddress{}, unix.EAFNOSUPPORT
		}
		full := tcpip.FullAddress{Port: binary.BigEndian.Uint16(b[2:])}
		if a := [4]byte(b[4:8]); a != [4]byte{} {
			full.Addr = tcpip.AddrFrom4(a)
		}
		return full, nil
	case unix.AF_INET6:
		if len(b) < sin6LenRFC2133 {
			return tcpip.FullAddress{}, unix.EINVAL
		}
		if family(b) != unix.AF_INET6 {
			return tcpip.FullAddress{}, unix.EAFNOSUPPORT
		}
		full := tcpip.FullAddress{Port: binary.BigEndian.Uint16(b[2:])}
		if a := [16]byte(b[8:24]); a != [16]byte{} {
			full.Addr = tcpip.AddrFrom16(a)
		}
		if len(b) >= unix.SizeofSockaddrInet6 {
			if scope := binary.NativeEndian.Uint32(b[24:]); scope != 0 {
				full.NIC = tcpip.NICID(scope)
			}
		}
		return full, nil
	}
	return tcpip.FullAddress{}, unix.EAFNOSUPPORT
}

// BindAddress is bind's reading of a: as parseFamily, except that an
// AF_INET socket takes AF_UNSPEC with INADDR_ANY as AF_INET, as Linux
// does for old programs.
func BindAddress(sockFamily int, a AddrArg) (tcpip.FullAddress, error) {
	b, err := a.bytes()
	if err != nil {
		return tcpip.FullAddress{}, err
	}
	if sockFamily == unix.AF_INET && len(b) >= unix.SizeofSockaddrInet4 &&
		family(b) == unix.AF_UNSPEC && [4]byte(b[4:8]) == [4]byte{} {
		return tcpip.FullAddress{Port: binary.BigEndian.Uint16(b[2:])}, nil
	}
	return parseFamily(sockFamily, b)
}

// ConnectAddress is connect's reading of a: disconnect is true for
// AF_UNSPEC (which dissolves an association), else the address to
// connect to. Shorter than a family is EINVAL.
func ConnectAddress(sockFamily int, a AddrArg) (full tcpip.FullAddress, disconnect bool, err error) {
	b, err := a.bytes()
	if err != nil {
		return tcpip.FullAddress{}, false, err
	}
	if len(b) < 2 {
		return tcpip.FullAddress{}, false, unix.EINVAL
	}
	if family(b) == unix.AF_UNSPEC {
		return tcpip.FullAddress{}, true, nil
	}
	full, err = parseFamily(sockFamily, b)
	return full, false, err
}

// SendTarget is sendto's destination: nil when a has no pointer.
// Linux copies the address in (checking its length) before it looks at
// the socket type, and a stream socket then ignores it.
func SendTarget(sockFamily, sockType int, a AddrArg) (*tcpip.FullAddress, error) {
	return sendTarget(sockFamily, sockType, nil, a)
}

// SendTargetArg is SendTarget for this socket: an AF_INET6 UDP socket
// follows Linux's IPv6 rules (udp6Target).
func (so *Socket) SendTargetArg(a AddrArg) (*tcpip.FullAddress, error) {
	var v6 *v6Rules
	if so.Family == unix.AF_INET6 && so.Protocol == unix.IPPROTO_UDP {
		v6 = &v6Rules{v6only: so.endpoint().SocketOptions().GetV6Only()}
	}
	return sendTarget(so.Family, so.Type, v6, a)
}

// v6Rules are what an AF_INET6 UDP socket's address rules depend on.
type v6Rules struct{ v6only bool }

func sendTarget(sockFamily, sockType int, v6 *v6Rules, a AddrArg) (*tcpip.FullAddress, error) {
	if a.B == nil {
		return nil, nil
	}
	if err := a.checkLen(); err != nil {
		return nil, err
	}
	if sockType == unix.SOCK_STREAM {
		return nil, nil
	}
	b, err := a.bytes()
	if err != nil {
		return nil, err
	}
	if v6 != nil {
		return udp6Target(b, v6.v6only)
	}
	if sockFamily == unix.AF_INET && len(b) >= unix.SizeofSockaddrInet4 && family(b) == unix.AF_UNSPEC {
		// Linux's UDP sendto takes AF_UNSPEC as AF_INET.
		b = bytes.Clone(b)
		binary.NativeEndian.PutUint16(b, unix.AF_INET)
	}
	full, err := parseFamily(sockFamily, b)
	if err != nil {
		return nil, err
	}
	return &full, nil
}

// udp6Target is Linux's reading of an AF_INET6 UDP socket's sendto
// address: AF_UNSPEC is no address (the connected peer, else
// EDESTADDRREQ); an AF_INET sockaddr_in is sent over IPv4 (as its
// v4-mapped address), and so is a v4-mapped sockaddr_in6, both
// ENETUNREACH under IPV6_V6ONLY (for a sockaddr_in before its length is
// checked; sendOnce checks the v4-mapped one); any other family is EINVAL.
func udp6Target(b []byte, v6only bool) (*tcpip.FullAddress, error) {
	if len(b) < 2 {
		return nil, unix.EINVAL
	}
	switch family(b) {
	case unix.AF_UNSPEC:
		return nil, nil
	case unix.AF_INET:
		if v6only {
			return nil, unix.ENETUNREACH
		}
		full, err := parseFamily(unix.AF_INET, b)
		if err != nil {
			return nil, err
		}
		full.Addr = mapV4(full.Addr)
		return &full, nil
	case unix.AF_INET6:
		full, err := parseFamily(unix.AF_INET6, b)
		if err != nil {
			return nil, err
		}
		return &full, nil // sendOnce refuses a v4-mapped one under IPV6_V6ONLY
	}
	return nil, unix.EINVAL
}

// mapV4 is an IPv4 address as its v4-mapped IPv6 form (the unspecified
// address stays unspecified).
func mapV4(a tcpip.Address) tcpip.Address {
	if a.Len() != 4 {
		return a
	}
	var m [16]byte
	m[10], m[11] = 0xff, 0xff
	v4 := a.As4()
	copy(m[12:], v4[:])
	return tcpip.AddrFrom16(m)
}

// isV4Mapped: a is ::ffff:a.b.c.d.
func isV4Mapped(a tcpip.Address) bool {
	if a.Len() != 16 {
		return false
	}
	m := a.As16()
	return [12]byte(m[:12]) == [12]byte{10: 0xff, 11: 0xff}
}

// BindArg is Bind with a caller's sockaddr.
func (so *Socket) BindArg(a AddrArg) error {
	full, err := BindAddress(so.Family, a)
	if err != nil {
		return err
	}
	return so.Bind(full)
}

// ConnectArgStep is ConnectStep with a caller's sockaddr (AF_UNSPEC
// disconnects).
func (so *Socket) ConnectArgStep(c *Call, a AddrArg) error {
	full, disconnect, err := so.connectTarget(a)
	if err != nil {
		return err
	}
	if disconnect {
		return so.Disconnect()
	}
	return so.ConnectStep(c, full)
}

// connectTarget is ConnectAddress for this socket, with Linux's IPv4
// path on an AF_INET6 UDP one: it connects to a sockaddr_in as to its
// v4-mapped address (EAFNOSUPPORT under IPV6_V6ONLY).
func (so *Socket) connectTarget(a AddrArg) (tcpip.FullAddress, bool, error) {
	if so.Family != unix.AF_INET6 || so.Protocol != unix.IPPROTO_UDP {
		return ConnectAddress(so.Family, a)
	}
	if b, err := a.bytes(); err == nil && family(b) == unix.AF_INET {
		if so.endpoint().SocketOptions().GetV6Only() {
			return tcpip.FullAddress{}, false, unix.EAFNOSUPPORT
		}
		full, err := parseFamily(unix.AF_INET, b)
		full.Addr = mapV4(full.Addr)
		return full, false, err
	}
	return ConnectAddress(so.Family, a)
}

// v6onlyRefuses: Linux's TCP and UDP over IPv6 refuse a v4-mapped peer
// under IPV6_V6ONLY with ENETUNREACH (gVisor answers EHOSTUNREACH).
func (so *Socket) v6onlyRefuses(to tcpip.FullAddress) bool {
	return so.Family == unix.AF_INET6 && (so.Protocol == unix.IPPROTO_UDP || so.Protocol == unix.IPPROTO_TCP) &&
		isV4Mapped(to.Addr) && so.endpoint().SocketOptions().GetV6Only()
}

// AddrOut is where a call reports an address: Buf the caller's buffer
// (nil for NULL) and Len its value-result length word (nil for NULL).
// Buf need not be longer than SizeofSockaddrInet6 nor than *Len.
type AddrOut struct {
	Buf []byte
	Len *uint32
}

// Wanted: the caller gave a buffer, so the address is to be reported.
func (out AddrOut) Wanted() bool { return out.Buf != nil }

// lenMissing: a buffer without a length word, which Linux faults on
// when it reads the length.
func (out AddrOut) lenMissing() bool { return out.Buf != nil && out.Len == nil }

// Sockaddr is an encoded sockaddr_in or sockaddr_in6: N bytes of B.
// A value, so reporting an address allocates nothing.
type Sockaddr struct {
	B [unix.SizeofSockaddrInet6]byte
	N int
}

// Bytes is the encoded address.
func (sa *Sockaddr) Bytes() []byte { return sa.B[:sa.N] }

// EncodeSockaddr is full as a sockaddr of family (sockaddr_in, or
// sockaddr_in6 where a v4 address appears v4-mapped).
func EncodeSockaddr(sockFamily int, full tcpip.FullAddress) Sockaddr {
	var sa Sockaddr
	b := sa.B[:]
	binary.BigEndian.PutUint16(b[2:], full.Port)
	if sockFamily != unix.AF_INET6 {
		binary.NativeEndian.PutUint16(b, unix.AF_INET)
		if full.Addr.Len() == 4 {
			a := full.Addr.As4()
			copy(b[4:8], a[:])
		}
		sa.N = unix.SizeofSockaddrInet4
		return sa
	}
	binary.NativeEndian.PutUint16(b, unix.AF_INET6)
	switch full.Addr.Len() {
	case 16:
		a := full.Addr.As16()
		copy(b[8:24], a[:])
	case 4:
		a := full.Addr.As4()
		b[18], b[19] = 0xff, 0xff
		copy(b[20:24], a[:])
	}
	binary.NativeEndian.PutUint32(b[24:], uint32(full.NIC))
	sa.N = unix.SizeofSockaddrInet6
	return sa
}

// Put stores full in out as Linux does: cut to *Len bytes, *Len set to
// the full size; a negative *Len is EINVAL. Nothing is stored without a
// buffer or a length word.
func (out AddrOut) Put(sockFamily int, full tcpip.FullAddress) error {
	if out.Buf == nil || out.Len == nil {
		return nil
	}
	if int32(*out.Len) < 0 {
		return unix.EINVAL
	}
	sa := EncodeSockaddr(sockFamily, full)
	copy(out.Buf[:min(int(*out.Len), len(out.Buf), sa.N)], sa.Bytes())
	*out.Len = uint32(sa.N)
	return nil
}

// ReportPeer is accept's report of a new connection's peer. Linux finds
// a NULL length only when it copies the address out: the caller then
// drops the connection it could not report (EFAULT).
func (so *Socket) ReportPeer(out AddrOut, peer tcpip.FullAddress) error {
	if out.lenMissing() {
		return unix.EFAULT
	}
	return out.Put(so.Family, peer)
}

// Name is getsockname (peer false) or getpeername into out; both
// pointers are required.
func (so *Socket) Name(peer bool, out AddrOut) error {
	if out.Buf == nil || out.Len == nil {
		return unix.EFAULT
	}
	get := so.LocalAddr
	if peer {
		get = so.RemoteAddr
	}
	full, err := get()
	if err != nil {
		return err
	}
	return out.Put(so.Family, full)
}

// RecvFromStep is RecvStep reporting the sender in from, as recvfrom: a
// buffer without a length is EFAULT before any data moves; a length that
// cannot be written back fails the call after the data was taken; a
// stream reports no address (length 0).
func (so *Socket) RecvFromStep(c *Call, b []byte, from AddrOut, flags RecvFlags) (RecvResult, error) {
	if from.lenMissing() {
		return RecvResult{}, unix.EFAULT
	}
	flags.NeedRemoteAddr = from.Wanted()
	res, err := so.RecvStep(c, b, flags)
	if err != nil || !from.Wanted() {
		return res, err
	}
	if so.Type == unix.SOCK_STREAM {
		if int32(*from.Len) < 0 {
			return res, unix.EINVAL
		}
		*from.Len = 0
		return res, nil
	}
	return res, from.Put(so.Family, res.From)
}
