package tap

import "encoding/binary"

// struct virtio_net_hdr (linux/virtio_net.h), the 10-byte header that
// precedes every frame on a TAP opened with IFF_VNET_HDR. We set the
// header size (TUNSETVNETHDRSZ) and byte order (TUNSETVNETLE) explicitly
// because both persist on a persistent TAP.
const (
	vnetHdrLen = 10

	vnetFlagNeedsCsum = 1 // csum_start/csum_offset describe a partial checksum
	vnetFlagDataValid = 2 // the kernel already verified the checksum

	vnetGSONone  = 0
	vnetGSOTCPv4 = 1
	vnetGSOUDP   = 3
	vnetGSOTCPv6 = 4
	vnetGSOECN   = 0x80
)

// TUNSETOFFLOAD flags (linux/if_tun.h); x/sys does not define them.
const (
	tunFCsum = 0x01
	tunFTSO4 = 0x02
	tunFTSO6 = 0x04
)

type vnetHdr struct {
	flags      uint8
	gsoType    uint8
	hdrLen     uint16
	gsoSize    uint16
	csumStart  uint16
	csumOffset uint16
}

func (h *vnetHdr) decode(b []byte) {
	h.flags = b[0]
	h.gsoType = b[1]
	h.hdrLen = binary.LittleEndian.Uint16(b[2:])
	h.gsoSize = binary.LittleEndian.Uint16(b[4:])
	h.csumStart = binary.LittleEndian.Uint16(b[6:])
	h.csumOffset = binary.LittleEndian.Uint16(b[8:])
}

func (h *vnetHdr) encode(b []byte) {
	b[0] = h.flags
	b[1] = h.gsoType
	binary.LittleEndian.PutUint16(b[2:], h.hdrLen)
	binary.LittleEndian.PutUint16(b[4:], h.gsoSize)
	binary.LittleEndian.PutUint16(b[6:], h.csumStart)
	binary.LittleEndian.PutUint16(b[8:], h.csumOffset)
}
