package tap

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/tcpip/checksum"
)

// In offload mode the endpoint advertises RX checksum offload, because the
// kernel hands us checksum-partial frames (NEEDS_CSUM) whose checksum field
// only holds the pseudo-header sum. gVisor's NIC applies that capability to
// every packet (it overwrites pkt.RXChecksumValidated), so frames that come
// without NEEDS_CSUM or DATA_VALID are checked here instead. ICMP checksums
// are always verified by gVisor; L4 checksums of IP fragments cannot be
// checked per frame and pass unchecked.

const (
	protoTCP = 6
	protoUDP = 17
)

// frameChecksumsOK checks an Ethernet frame stored as a followed by b.
func frameChecksumsOK(a, b []byte) bool {
	if len(a) < 14 {
		return false
	}
	switch binary.BigEndian.Uint16(a[12:14]) {
	case 0x0800:
		return ipv4ChecksumsOK(a[14:], b)
	case 0x86dd:
		return ipv6ChecksumsOK(a[14:], b)
	}
	return true // ARP and others carry no checksum we must vouch for
}

func ipv4ChecksumsOK(a, b []byte) bool {
	if len(a) < 20 {
		return false
	}
	ihl := int(a[0]&0xf) * 4
	if a[0]>>4 != 4 || ihl < 20 || len(a) < ihl {
		return false
	}
	if checksum.Checksum(a[:ihl], 0) != 0xffff {
		return false
	}
	total := int(binary.BigEndian.Uint16(a[2:4]))
	if total < ihl || total > len(a)+len(b) {
		return false
	}
	if binary.BigEndian.Uint16(a[6:8])&0x3fff != 0 {
		return true // fragment
	}
	proto := a[9]
	if proto == protoUDP && total-ihl >= 8 && rangeByte(a, b, ihl+6) == 0 && rangeByte(a, b, ihl+7) == 0 {
		return true // IPv4 UDP without checksum
	}
	return l4ChecksumOK(a, b, a[12:20], proto, ihl, total)
}

func ipv6ChecksumsOK(a, b []byte) bool {
	if len(a) < 40 || a[0]>>4 != 6 {
		return false
	}
	end := 40 + int(binary.BigEndian.Uint16(a[4:6]))
	if end > len(a)+len(b) {
		return false
	}
	next, off := a[6], 40
	for i := 0; i < 8; i++ { // bounded walk over extension headers
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if off+2 > len(a) || off+2 > end {
				return false
			}
			next, off = a[off], off+(int(a[off+1])+1)*8
			continue
		case 44: // fragment
			return true
		}
		break
	}
	if off > end {
		return false
	}
	return l4ChecksumOK(a, b, a[8:40], next, off, end)
}

// l4ChecksumOK verifies a TCP or UDP checksum over bytes [start,end) of a+b.
func l4ChecksumOK(a, b, addrs []byte, proto uint8, start, end int) bool {
	n := end - start
	switch {
	case proto == protoTCP && n >= 20, proto == protoUDP && n >= 8:
	case proto == protoTCP, proto == protoUDP:
		return false
	default:
		return true
	}
	pseudo := checksum.Checksum(addrs, 0)
	pseudo = checksum.Combine(pseudo, uint16(proto))
	pseudo = checksum.Combine(pseudo, uint16(n))
	var c checksum.Checksumer
	if start < len(a) {
		c.Add(a[start:min(end, len(a))])
	}
	if end > len(a) {
		c.Add(b[max(start-len(a), 0) : end-len(a)])
	}
	return checksum.Combine(pseudo, c.Checksum()) == 0xffff
}

func rangeByte(a, b []byte, i int) byte {
	if i < len(a) {
		return a[i]
	}
	return b[i-len(a)]
}
