package socket_test

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/socket"
	"gonetif.dev/gonetif/stack"
)

// holdLink passes frames to its link, or, while holding, keeps the
// packets (and so their share of the sender's send buffer) until released.
type holdLink struct {
	gvstack.LinkEndpoint
	holding atomic.Bool
	mu      sync.Mutex
	held    []*gvstack.PacketBuffer
}

func (l *holdLink) WritePackets(pkts gvstack.PacketBufferList) (int, tcpip.Error) {
	if !l.holding.Load() {
		return l.LinkEndpoint.WritePackets(pkts)
	}
	l.mu.Lock()
	for _, p := range pkts.AsSlice() {
		l.held = append(l.held, p.IncRef())
	}
	l.mu.Unlock()
	return pkts.Len(), nil
}

func (l *holdLink) release() {
	l.mu.Lock()
	held := l.held
	l.held = nil
	l.mu.Unlock()
	for _, p := range held {
		p.DecRef()
	}
}

// sinkFrames counts the IPv4 UDP frames a sink link was given and keeps
// the last one's source address.
type sinkFrames struct {
	n   atomic.Int64
	src atomic.Value // tcpip.Address
}

func (s *sinkFrames) transmit(frame []byte) error {
	if len(frame) < header.EthernetMinimumSize+header.IPv4MinimumSize || header.Ethernet(frame).Type() != header.IPv4ProtocolNumber {
		return nil
	}
	ip := header.IPv4(frame[header.EthernetMinimumSize:])
	if ip.TransportProtocol() == header.UDPProtocolNumber {
		s.src.Store(ip.SourceAddress())
		s.n.Add(1)
	}
	return nil
}

// sinkSocket is a UDP socket connected to a peer behind a link that
// counts and drops every frame (no ARP: the peer is a static neighbour).
func sinkSocket(t *testing.T) (*gonetif.Stack, *socket.Socket, *holdLink, *sinkFrames) {
	t.Helper()
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	frames := &sinkFrames{}
	link := &holdLink{LinkEndpoint: driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x00\x01", Transmit: frames.transmit})}
	t.Cleanup(link.release)
	return s, connectedUDPOver(t, s, link, 5411), link, frames
}

// connectedUDPOver is a UDP socket of s connected to ipB:port through
// link, s's one interface (testnet.AddrA), with the peer a static
// neighbour so that every send goes straight to link. It is released when
// tb ends.
func connectedUDPOver(tb testing.TB, s *gonetif.Stack, link gvstack.LinkEndpoint, port uint16) *socket.Socket {
	tb.Helper()
	n, err := s.AddInterface(netif.Config{Key: "S", Flags: netif.FlagAutoUp,
		IPInfo: netif.IPInfo{IP: testnet.AddrA, Netmask: testnet.Mask}}, link)
	if err != nil {
		tb.Fatal(err)
	}
	peer := addr(ipB, port)
	if err := s.Gvisor().AddStaticNeighbor(n.NICID(), header.IPv4ProtocolNumber, peer.Addr, "\x02\x00\x00\x00\x00\x02"); err != nil {
		tb.Fatal(err)
	}
	so, err := socket.New(s.Gvisor(), unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = so.Release() })
	if err := so.Connect(peer); err != nil {
		tb.Fatal(err)
	}
	return so
}

// TestGvisorDatagramWritableOnlyAfterFull checks the overlay edit of
// internal/network's release of a sent datagram: writers are woken when
// the send buffer goes from full to not full, not once per datagram. A
// burst of datagrams written at once (the buffer never full) wakes nobody
// (200 wake-ups without the overlay); a buffer filled to EAGAIN wakes its
// waiter when the link lets go of the datagrams.
func TestGvisorDatagramWritableOnlyAfterFull(t *testing.T) {
	_, so, link, frames := sinkSocket(t)
	_, wq := so.Endpoint()
	var wakeups atomic.Int64
	entry := waiter.NewFunctionEntry(waiter.WritableEvents, func(waiter.EventMask) { wakeups.Add(1) })
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)

	msg := make([]byte, 64)
	const burst = 200
	for i := 0; i < burst; i++ {
		if _, err := so.Send(msg, nil, socket.SendFlags{}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if got := frames.n.Load(); got != burst {
		t.Fatalf("the link got %d of %d datagrams", got, burst)
	}
	if n := wakeups.Load(); n != 0 {
		t.Errorf("%d writability wake-ups for %d datagrams that never filled the buffer, want 0", n, burst)
	}

	// Held by the link, datagrams fill a small buffer: EAGAIN, then room
	// (and one wake-up at least) once the link lets them go.
	if err := so.SetOptionInt(unix.SOL_SOCKET, unix.SO_SNDBUF, 2048); err != nil {
		t.Fatal(err)
	}
	so.SetNonblock(true)
	link.holding.Store(true)
	sent := 0
	for ; sent < 1000; sent++ {
		if _, err := so.Send(msg, nil, socket.SendFlags{}); err == unix.EAGAIN {
			break
		} else if err != nil {
			t.Fatalf("send %d: %v", sent, err)
		}
	}
	if sent == 1000 || socket.EndpointWritable(so) {
		t.Fatalf("a 4 KiB send buffer took %d held datagrams and is still writable", sent)
	}
	wakeups.Store(0)
	woken := make(chan error, 1)
	go func() { woken <- so.Wait(waiter.WritableEvents, time.Now().Add(5*time.Second)) }()
	time.Sleep(20 * time.Millisecond) // the waiter registers (Wait re-checks, so either order works)
	link.holding.Store(false)
	link.release()
	if err := <-woken; err != nil {
		t.Fatalf("the buffer's waiter was not woken when the link released %d datagrams: %v", sent, err)
	}
	if n := wakeups.Load(); n < 1 {
		t.Errorf("no writability wake-up when the full buffer emptied")
	}
	if _, err := so.Send(msg, nil, socket.SendFlags{}); err != nil {
		t.Fatalf("send after the buffer emptied: %v", err)
	}
}

// insertRule puts r first in hook's chain of table, moving the indexes
// of the rules after it (gVisor's default tables hold no jumps).
func insertRule(table *gvstack.Table, hook gvstack.Hook, r gvstack.Rule) {
	at := table.BuiltinChains[hook]
	table.Rules = append(table.Rules[:at], append([]gvstack.Rule{r}, table.Rules[at:]...)...)
	for h := range table.BuiltinChains {
		if i := table.BuiltinChains[h]; i != gvstack.HookUnset && i > at {
			table.BuiltinChains[h] = i + 1
		}
		if i := table.Underflows[h]; i != gvstack.HookUnset && i >= at {
			table.Underflows[h] = i + 1
		}
	}
}

// TestGvisorOutputHooksSeeTheNICName checks the overlay edits that name
// the outgoing NIC from the network endpoint (no stack lock): rules
// matching the interface by name still apply in OUTPUT (filter: drop)
// and POSTROUTING (nat: change the source), and a rule naming another
// interface does not.
func TestGvisorOutputHooksSeeTheNICName(t *testing.T) {
	newSrc := tcpip.AddrFrom4([4]byte{10, 7, 0, 99})
	for _, c := range []struct {
		name    string
		table   gvstack.TableID
		hook    gvstack.Hook
		iface   string
		target  gvstack.Target
		wantN   int64
		wantSrc tcpip.Address
	}{
		{"OUTPUT drop, this NIC", gvstack.FilterID, gvstack.Output, "S", &gvstack.DropTarget{NetworkProtocol: header.IPv4ProtocolNumber}, 0, tcpip.Address{}},
		{"OUTPUT drop, another NIC", gvstack.FilterID, gvstack.Output, "T", &gvstack.DropTarget{NetworkProtocol: header.IPv4ProtocolNumber}, 1, tcpip.AddrFrom4(ipA)},
		{"POSTROUTING SNAT, this NIC", gvstack.NATID, gvstack.Postrouting, "S", &gvstack.SNATTarget{NetworkProtocol: header.IPv4ProtocolNumber, Addr: newSrc, ChangeAddress: true}, 1, newSrc},
		{"POSTROUTING SNAT, another NIC", gvstack.NATID, gvstack.Postrouting, "T", &gvstack.SNATTarget{NetworkProtocol: header.IPv4ProtocolNumber, Addr: newSrc, ChangeAddress: true}, 1, tcpip.AddrFrom4(ipA)},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, so, _, frames := sinkSocket(t)
			ipt := s.Gvisor().IPTables()
			table := ipt.GetTable(c.table, false)
			insertRule(&table, c.hook, gvstack.Rule{Filter: gvstack.IPHeaderFilter{OutputInterface: c.iface}, Target: c.target})
			ipt.ReplaceTable(c.table, table, false)
			if _, err := so.Send(make([]byte, 64), nil, socket.SendFlags{}); err != nil {
				t.Fatal(err)
			}
			if got := frames.n.Load(); got != c.wantN {
				t.Fatalf("%d datagrams on the link, want %d", got, c.wantN)
			}
			if c.wantN > 0 {
				if src := frames.src.Load().(tcpip.Address); src != c.wantSrc {
					t.Errorf("source %v, want %v", src, c.wantSrc)
				}
			}
		})
	}
}

// attachHoldLink's Attach, once armed, waits for release: the stack holds
// its NIC table's lock for writing meanwhile (CreateNIC attaches the link
// under it).
type attachHoldLink struct {
	gvstack.LinkEndpoint
	entered chan struct{}
	release chan struct{}
}

func (l *attachHoldLink) Attach(d gvstack.NetworkDispatcher) {
	if d != nil {
		close(l.entered)
		<-l.release
	}
	l.LinkEndpoint.Attach(d)
}

// TestGvisorDatagramSendSkipsTheNICTable checks the overlay edits of the
// experiment option check: a datagram is sent while another interface is
// being added (the stack's NIC table locked for writing). Without them
// each datagram looked its NIC up in that table twice and waited until
// the interface was added.
func TestGvisorDatagramSendSkipsTheNICTable(t *testing.T) {
	s, so, _, frames := sinkSocket(t)
	link := &attachHoldLink{LinkEndpoint: driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x00\x03", Transmit: func([]byte) error { return nil }}),
		entered: make(chan struct{}), release: make(chan struct{})}
	added := make(chan error, 1)
	go func() {
		_, err := s.AddInterface(netif.Config{Key: "T", Flags: netif.FlagAutoUp,
			IPInfo: netif.IPInfo{IP: netip.MustParseAddr("10.7.9.1"), Netmask: testnet.Mask}}, link)
		added <- err
	}()
	released := false
	release := func() {
		if !released {
			released = true
			close(link.release)
		}
	}
	defer func() {
		release()
		<-added
	}()
	select {
	case <-link.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the second interface's link was not attached")
	}
	sent := make(chan error, 1)
	go func() {
		_, err := so.Send(make([]byte, 64), nil, socket.SendFlags{})
		sent <- err
	}()
	select {
	case err := <-sent:
		if err != nil {
			t.Fatalf("send: %v", err)
		}
	case <-time.After(time.Second):
		release()
		t.Fatalf("a datagram waited for another interface being added (the stack's NIC table lock); it returned %v once that was done", <-sent)
	}
	if got := frames.n.Load(); got != 1 {
		t.Errorf("the link got %d datagrams, want 1", got)
	}
}
