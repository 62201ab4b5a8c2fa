package capture_test

import (
	"bytes"
	"testing"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/link/capture"
)

// FuzzRecord: any frame, with any snap length, comes back out of the pcap
// as its first snapLen bytes with its original length.
func FuzzRecord(f *testing.F) {
	f.Add([]byte{}, uint16(0))
	f.Add(bytes.Repeat([]byte{0xab}, 1514), uint16(64))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x01\x08\x06"), uint16(1))
	f.Fuzz(func(t *testing.T, frame []byte, snap uint16) {
		var out bytes.Buffer
		ep, err := capture.NewWriter(channel.New(1, 1500, ""), &out, uint32(snap))
		if err != nil {
			t.Fatal(err)
		}
		var pkts stack.PacketBufferList
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
		pkts.PushBack(pkt)
		_, _ = ep.WritePackets(pkts)
		pkt.DecRef()
		if err := ep.Flush(); err != nil {
			t.Fatal(err)
		}
		_, recs := readPcap(t, out.Bytes())
		limit := int(snap)
		if limit == 0 {
			limit = capture.DefaultSnapLen
		}
		want := frame[:min(len(frame), limit)]
		if len(recs) != 1 || recs[0].origLen != len(frame) || !bytes.Equal(recs[0].data, want) {
			t.Fatalf("got %d records, want one of %d bytes (orig %d)", len(recs), len(want), len(frame))
		}
	})
}
