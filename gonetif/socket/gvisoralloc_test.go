package socket_test

import (
	"sync/atomic"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/socket"
	"gonetif.dev/gonetif/stack"
)

// countLink counts the UDP frames it is given and writes none, allocating
// nothing itself, so the allocations of a send are the stack's. Other
// frames (an IPv6 router solicitation or MLD report the interface sends
// meanwhile) are not counted: one landed inside a count once.
type countLink struct {
	gvstack.LinkEndpoint
	frames atomic.Int64
}

func (l *countLink) WritePackets(pkts gvstack.PacketBufferList) (int, tcpip.Error) {
	for _, pkt := range pkts.AsSlice() {
		if pkt.TransportProtocolNumber == header.UDPProtocolNumber {
			l.frames.Add(1)
		}
	}
	return pkts.Len(), nil
}

// TestDatagramSendAllocatesNothing checks the overlay edits of the datagram
// send path (internal/network's payload read and release, the NIC's list
// of one) and gonetif's own list of one in front of a TX queue: a 64-byte
// datagram on a connected socket allocates nothing in steady state. Without
// the edits: 3 allocations a datagram (a release closure, an
// io.LimitedReader, the NIC's one-packet list); through a TX queue 2 of
// gVisor's and gonetif's own one-packet list.
func TestDatagramSendAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector empties sync.Pools at random: allocation counts mean nothing")
	}
	for _, c := range []struct {
		name    string
		txQueue int  // netif.Manager.TxQueue: UDP is written inline through it
		fast    bool // the UDP fast path (GONETIF_UDP_FASTPATH)
	}{{"plain", 0, false}, {"TX queue", 16, false}, {"fast path", 0, true}, {"fast path, TX queue", 16, true}} {
		t.Run(c.name, func(t *testing.T) {
			s, err := gonetif.New(stack.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.Netifs.TxQueue = c.txQueue
			link := &countLink{LinkEndpoint: driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x00\x01", Transmit: func([]byte) error { return nil }})}
			so := connectedUDPOver(t, s, link, 5412)
			if c.fast {
				so.SetUDPFastPath(s.Netifs.FrameOut)
			}
			msg := make([]byte, 64)
			send := func() {
				var call socket.Call
				if k, err := so.SendStep(&call, msg, nil, socket.SendFlags{}); err != nil || k != len(msg) {
					t.Fatalf("send: %d %v", k, err)
				}
			}
			for i := 0; i < 100; i++ { // pools and the route's caches fill
				send()
			}
			const runs = 2000
			before := link.frames.Load()
			allocs := testing.AllocsPerRun(runs, send)
			if got := link.frames.Load() - before; got != runs+1 { // AllocsPerRun adds a warm-up call
				t.Fatalf("the link got %d frames for %d datagrams", got, runs+1)
			}
			if allocs > 0.05 {
				t.Errorf("%.2f allocations per 64-byte datagram sent, want 0", allocs)
			}
		})
	}
}
