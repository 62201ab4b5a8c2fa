package tap

import (
	"testing"
)

// FuzzDeliver feeds what a TAP read could return (vnet header, then the
// frame) to the reader's validation: it must never panic, must count every
// frame exactly once, and must pass on only frames of the length read.
func FuzzDeliver(f *testing.F) {
	good := tcpFrame(DefaultMAC, 100)
	big := tcpFrame(DefaultMAC, 3000)
	hdr := func(h vnetHdr) []byte {
		b := make([]byte, vnetHdrLen)
		h.encode(b)
		return b
	}
	f.Add(true, append(hdr(vnetHdr{}), good...))
	f.Add(true, append(hdr(vnetHdr{flags: vnetFlagNeedsCsum, csumStart: 34, csumOffset: 16}), good...))
	f.Add(true, append(hdr(vnetHdr{flags: vnetFlagNeedsCsum, gsoType: vnetGSOTCPv4, gsoSize: 1448, csumStart: 34, csumOffset: 16}), big...))
	f.Add(true, append(hdr(vnetHdr{gsoType: vnetGSOUDP}), good...))
	f.Add(true, append(hdr(vnetHdr{flags: vnetFlagNeedsCsum, csumStart: 0xffff, csumOffset: 0xffff}), good...))
	f.Add(true, []byte{1, 2, 3})
	f.Add(false, good)
	f.Add(false, good[:20])
	f.Add(false, big)
	f.Fuzz(func(t *testing.T, vnet bool, data []byte) {
		if len(data) > vnetHdrLen+rxCapacity+64 {
			return
		}
		e, rec := newTestEndpoint(vnet)
		var rx rxState
		defer rx.release()
		rx.prepare(vnet)
		frame := data
		if vnet {
			n := copy(rx.hdr[:], data)
			frame = data[n:]
		}
		k := copy(rx.first.AsSlice(), frame)
		copy(rx.rest.AsSlice(), frame[k:])
		e.deliver(&rx, len(data))
		st := e.Stats()
		if sum := st.RxFrames + st.RxDropped + st.RxMalformed + st.RxBadChecksum; sum != 1 {
			t.Fatalf("one read moved the counters by %d: %+v", sum, st)
		}
		if st.RxFrames == 1 && (len(rec.sizes) != 1 || rec.sizes[0] != len(frame)) {
			t.Fatalf("delivered %v, want one frame of %d bytes", rec.sizes, len(frame))
		}
		if st.RxFrames == 0 && len(rec.sizes) != 0 {
			t.Fatalf("a rejected frame was delivered")
		}
	})
}

// FuzzChecksums: the software checksum check gives the same answer
// wherever the frame is split between the reader's two views (headers
// always sit in the first), and never panics on garbage.
func FuzzChecksums(f *testing.F) {
	good := tcpFrame(DefaultMAC, 1000)
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	f.Add(good, uint16(200))
	f.Add(bad, uint16(300))
	f.Add(good[:40], uint16(0))
	f.Add([]byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, frame []byte, split uint16) {
		whole := frameChecksumsOK(frame, nil)
		const headers = 14 + 60 + 60 // Ethernet, IPv4 with options, TCP with options
		if s := int(split); s >= headers && s < len(frame) {
			if got := frameChecksumsOK(frame[:s], frame[s:]); got != whole {
				t.Fatalf("split at %d says %t, whole frame %t", s, got, whole)
			}
		}
	})
}
