package netif_test

import (
	"io"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/netif"
)

// countingLink counts the TCP segments an interface writes, bare ACKs
// apart.
type countingLink struct {
	gvstack.LinkEndpoint
	bare, data atomic.Int64
}

func (l *countingLink) WritePackets(pkts gvstack.PacketBufferList) (int, tcpip.Error) {
	for _, pkt := range pkts.AsSlice() {
		if pkt.TransportProtocolNumber != header.TCPProtocolNumber {
			continue
		}
		tcp := header.TCP(pkt.TransportHeader().Slice())
		if tcp.Flags() == header.TCPFlagAck && pkt.Data().Size() == 0 {
			l.bare.Add(1)
		} else {
			l.data.Add(1)
		}
	}
	return l.LinkEndpoint.WritePackets(pkts)
}

// requestResponse runs trips 1-byte exchanges from a client interface
// (with the given AckHold) to an echo server on another stack, and
// returns the client's bare ACKs and other segments.
func requestResponse(t *testing.T, hold time.Duration, trips int) (bare, data int64) {
	p := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x00\x02"), 0)
	t.Cleanup(p.Close)
	client, server := newManager(t), newManager(t)
	client.AckHold = hold
	link := &countingLink{LinkEndpoint: p.A}
	start := func(m *netif.Manager, key, ip string, l gvstack.LinkEndpoint) {
		n, err := m.New(netif.Config{Key: key, Flags: netif.FlagAutoUp, IPInfo: netif.IPInfo{
			IP: netip.MustParseAddr(ip), Netmask: netip.MustParseAddr("255.255.255.0")}})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Attach(l); err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
	}
	start(client, "C", "10.9.1.1", link)
	start(server, "S", "10.9.1.2", p.B)
	srvAddr := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 9, 1, 2}), Port: 7}
	ln, err := gonet.ListenTCP(server.Stack(), srvAddr, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c)
	}()
	c, err := gonet.DialTCP(client.Stack(), srvAddr, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	b := []byte{0}
	for i := 0; i < trips; i++ {
		b[0] = byte(i)
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, b); err != nil || b[0] != byte(i) {
			t.Fatalf("trip %d: %v, echo %d", i, err, b[0])
		}
	}
	return link.bare.Load(), link.data.Load()
}

// A request/response exchange over a stack that acknowledges every echo
// at once writes a bare ACK per trip; with the hold the next request
// carries it.
func TestAckHoldRequestResponseFrames(t *testing.T) {
	const trips = 200
	bare, data := requestResponse(t, 0, trips)
	if bare < trips/2 {
		t.Fatalf("without the hold: %d bare ACKs in %d trips; the test no longer sees gVisor's immediate ACK", bare, trips)
	}
	t.Logf("without the hold: %d bare ACKs, %d other segments", bare, data)
	bare, data = requestResponse(t, 2*time.Second, trips)
	t.Logf("with the hold: %d bare ACKs, %d other segments", bare, data)
	if bare > 3 || data < trips {
		t.Fatalf("with the hold: %d bare ACKs and %d other segments in %d trips", bare, data, trips)
	}
}
