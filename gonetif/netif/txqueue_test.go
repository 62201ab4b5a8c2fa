package netif_test

import (
	"bytes"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif/config"
	"gonetif.dev/gonetif/netif"
)

// stuckLink, once stuck, holds every write until release is closed.
type stuckLink struct {
	gvstack.LinkEndpoint
	stuck   atomic.Bool
	writing chan struct{} // a write is being held
	mu      sync.Mutex    // release may be replaced while the stack writes (an NDP solicitation)
	release chan struct{}
}

func (l *stuckLink) WritePackets(pkts gvstack.PacketBufferList) (int, tcpip.Error) {
	if l.stuck.Load() {
		select {
		case l.writing <- struct{}{}:
		default:
		}
		<-l.releaseChan()
	}
	return l.LinkEndpoint.WritePackets(pkts)
}

func (l *stuckLink) releaseChan() chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.release
}

// rearm gives the link a new release channel, for another hold.
func (l *stuckLink) rearm() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.release = make(chan struct{})
}

// sendThroughStuckLink starts a TCP connect (its SYN is written by the
// caller) or sends one UDP datagram through an interface whose link
// blocks, and says whether the call returned while the link's write was
// still held.
func sendThroughStuckLink(t *testing.T, txQueue int, proto string, udpQueue bool) bool {
	m := newManager(t)
	m.TxQueue = txQueue
	m.UDPQueue = udpQueue
	link := &stuckLink{LinkEndpoint: newLink(t).A, writing: make(chan struct{}, 1), release: make(chan struct{})}
	_, peer := startedOn(t, m, "Q", 0, link)
	var wq waiter.Queue
	transport := udp.ProtocolNumber
	if proto == "tcp" {
		transport = tcp.ProtocolNumber
	}
	ep, tcpErr := m.Stack().NewEndpoint(transport, ipv4.ProtocolNumber, &wq)
	if tcpErr != nil {
		t.Fatal(tcpErr)
	}
	defer ep.Close()
	defer close(link.releaseChan()) // before ep.Close: a held write holds the endpoint
	link.stuck.Store(true)
	sent := make(chan tcpip.Error, 1)
	go func() {
		if proto == "tcp" {
			err := ep.Connect(peer)
			if _, started := err.(*tcpip.ErrConnectStarted); started {
				err = nil
			}
			sent <- err
			return
		}
		var r bytes.Reader
		r.Reset([]byte("hello"))
		_, err := ep.Write(&r, tcpip.WriteOptions{To: &peer})
		sent <- err
	}()
	select {
	case <-link.writing:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: nothing reached the link", proto)
	}
	select {
	case err := <-sent:
		if err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		return true
	case <-time.After(200 * time.Millisecond):
		return false
	}
}

func TestTxQueueTakesTCPWritesOffTheSender(t *testing.T) {
	for _, c := range []struct {
		txQueue int
		proto   string
		queued  bool
	}{
		{0, "tcp", false}, // the default: off
		{netif.SuggestedTxQueue, "tcp", true},
		{8, "tcp", true},
		{-1, "tcp", false},
		{8, "udp", false}, // datagrams are written by their sender
		{0, "udp", false},
	} {
		if got := sendThroughStuckLink(t, c.txQueue, c.proto, false); got != c.queued {
			t.Errorf("TxQueue %d, %s: returned before the link's write: %v, want %v", c.txQueue, c.proto, got, c.queued)
		}
	}
}

// TestUDPQueue: with UDPQueue a lone datagram is still written by its
// sender (only streams are queued: TestQueueUDPOnlyWhileStreaming), TCP
// is queued as before; without a queue there is nothing to put them on.
func TestUDPQueue(t *testing.T) {
	for _, c := range []struct {
		txQueue int
		proto   string
		queued  bool
	}{
		{8, "udp", false},
		{8, "tcp", true},
		{0, "udp", false},
	} {
		if got := sendThroughStuckLink(t, c.txQueue, c.proto, true); got != c.queued {
			t.Errorf("UDPQueue, TxQueue %d, %s: returned before the link's write: %v, want %v", c.txQueue, c.proto, got, c.queued)
		}
	}
}

func TestTxQueueDefaultIsTheSettingsDefault(t *testing.T) {
	s, ok := config.Lookup(config.TxQueue)
	// Off by default in both, C and Go: the zero Manager has no queue.
	if !ok || s.Default != "0" || (netif.Manager{}).TxQueue != 0 {
		t.Fatalf("GONETIF_TX_QUEUE default %q: want 0, as Manager.TxQueue's zero value", s.Default)
	}
	u, ok := config.Lookup(config.UDPQueue)
	if !ok || u.Default != "0" || (netif.Manager{}).UDPQueue {
		t.Fatalf("GONETIF_UDP_QUEUE default %q: want 0, as Manager.UDPQueue's zero value", u.Default)
	}
}

// startedOn is a started interface of m at 10.9.net.1/24 on link, and its
// peer 10.9.net.2:9, a static neighbour: the first frame a send to it
// writes is the SYN or datagram itself, not ARP.
func startedOn(t *testing.T, m *netif.Manager, key string, net byte, link gvstack.LinkEndpoint) (*netif.Netif, tcpip.FullAddress) {
	t.Helper()
	n, err := m.New(netif.Config{Key: key, Flags: netif.FlagAutoUp, IPInfo: netif.IPInfo{
		IP: netip.AddrFrom4([4]byte{10, 9, net, 1}), Netmask: netip.MustParseAddr("255.255.255.0")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Attach(link); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	peer := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 9, net, 2}), Port: 9}
	if err := m.Stack().AddStaticNeighbor(n.NICID(), header.IPv4ProtocolNumber, peer.Addr, "\x02\x00\x00\x00\x00\x02"); err != nil {
		t.Fatal(err)
	}
	return n, peer
}
