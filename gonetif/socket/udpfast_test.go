package socket_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/capture"
	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/socket"
	"gonetif.dev/gonetif/stack"
)

// frameLog keeps a copy of every UDP frame a link transmits.
type frameLog struct {
	mu     sync.Mutex
	frames [][]byte
}

func (l *frameLog) transmit(frame []byte) error {
	if len(frame) >= header.EthernetMinimumSize+header.IPv4MinimumSize && header.Ethernet(frame).Type() == header.IPv4ProtocolNumber &&
		header.IPv4(frame[header.EthernetMinimumSize:]).TransportProtocol() == header.UDPProtocolNumber {
		l.mu.Lock()
		l.frames = append(l.frames, bytes.Clone(frame))
		l.mu.Unlock()
	}
	return nil
}

func (l *frameLog) take() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.frames
	l.frames = nil
	return f
}

// withoutIPID is frame with its IPv4 ID and header checksum zeroed (the
// ID is any unique value on both paths), after checking the checksum.
func withoutIPID(t *testing.T, frame []byte) []byte {
	t.Helper()
	f := bytes.Clone(frame)
	ip := header.IPv4(f[header.EthernetMinimumSize:])
	if !ip.IsChecksumValid() {
		t.Fatalf("bad IPv4 header checksum in % x", frame)
	}
	ip.SetID(0)
	ip.SetChecksum(0)
	return f
}

// TestUDPFastPathFramesMatchGvisor sends the same datagrams through
// gVisor and through the fast path, for each of several option sets, and
// compares the frames byte for byte except the IPv4 ID; it also checks
// that the fast path sent all but the first datagram after each change
// (that one refreshes the snapshot and goes gVisor's way).
func TestUDPFastPathFramesMatchGvisor(t *testing.T) {
	defer socket.SetUDPFastRefresh(socket.SetUDPFastRefresh(int64(time.Minute))) // counted: no refresh by time
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	log := &frameLog{}
	link := driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x00\x01", Transmit: log.transmit})
	so := connectedUDPOver(t, s, link, 5412)

	sizes := []int{0, 1, 63, 64, 65, 1000, 1471, 1472}
	cases := []struct {
		name  string
		level int
		opt   int
		val   int
	}{
		{"defaults", 0, 0, 0},
		{"IP_TTL 7", unix.IPPROTO_IP, unix.IP_TTL, 7},
		{"IP_TOS 0x10", unix.IPPROTO_IP, unix.IP_TOS, 0x10},
		// gVisor's own option (the C API has no IP_MTU_DISCOVER): no DF,
		// so an ID per datagram.
		{"PMTU discovery off", -1, 0, 0},
		{"IP_TTL 255", unix.IPPROTO_IP, unix.IP_TTL, 255},
	}
	send := func(fast bool) [][]byte {
		if fast {
			so.SetUDPFastPath(s.Netifs.FrameOut)
		} else {
			so.SetUDPFastPath(nil)
		}
		for round := 0; round < 2; round++ {
			for i, n := range sizes {
				msg := make([]byte, n)
				for j := range msg {
					msg[j] = byte(i*31 + j + round)
				}
				if got, err := so.Send(msg, nil, socket.SendFlags{}); err != nil || got != n {
					t.Fatalf("fast=%v: send %d bytes: %d, %v", fast, n, got, err)
				}
			}
		}
		return log.take()
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.level == -1 {
				ep, _ := so.Endpoint()
				if err := ep.SetSockOptInt(tcpip.MTUDiscoverOption, int(tcpip.PMTUDiscoveryDont)); err != nil {
					t.Fatal(err)
				}
			} else if c.level != 0 {
				if err := so.SetOptionInt(c.level, c.opt, c.val); err != nil {
					t.Fatal(err)
				}
			}
			slow := send(false)
			before := socket.UDPFastSent(so) // 0: a new fast path state
			fast := send(true)
			if got, want := socket.UDPFastSent(so)-before, uint64(2*len(sizes)-1); got != want {
				t.Errorf("fast path sent %d datagrams, want %d (all but the first)", got, want)
			}
			if len(slow) != 2*len(sizes) || len(fast) != len(slow) {
				t.Fatalf("frames: %d through gVisor, %d fast, want %d", len(slow), len(fast), 2*len(sizes))
			}
			for i := range slow {
				a, b := withoutIPID(t, slow[i]), withoutIPID(t, fast[i])
				if !bytes.Equal(a, b) {
					t.Errorf("frame %d differs:\ngVisor % x\nfast   % x", i, a, b)
				}
			}
			if c.level == -1 {
				seen := map[uint16]bool{}
				for _, f := range fast {
					seen[header.IPv4(f[header.EthernetMinimumSize:]).ID()] = true
				}
				if len(seen) != len(fast) {
					t.Errorf("%d IDs for %d datagrams without DF", len(seen), len(fast))
				}
			}
		})
	}
}

// TestUDPFastPathFollowsChanges checks that what the fast path cached
// gives way at once: an option set between two datagrams is in the next
// frame, the counters move as gVisor's do, and after the interface goes
// down or the socket is shut for writing a send fails as it does without
// the fast path, with no frame written.
func TestUDPFastPathFollowsChanges(t *testing.T) {
	defer socket.SetUDPFastRefresh(socket.SetUDPFastRefresh(int64(time.Minute))) // counted: no refresh by time
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	log := &frameLog{}
	link := driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x00\x01", Transmit: log.transmit})
	so := connectedUDPOver(t, s, link, 5413)
	n := s.Netifs.ByKey("S")
	msg := make([]byte, 64)
	sendOK := func(k int) {
		t.Helper()
		for i := 0; i < k; i++ {
			if _, err := so.Send(msg, nil, socket.SendFlags{}); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
	}
	sendErr := func() error {
		_, err := so.Send(msg, nil, socket.SendFlags{})
		return err
	}

	up := func() {
		t.Helper()
		if err := n.Up(); err != nil {
			t.Fatal(err)
		}
		// Down forgot the neighbours; the peer is a static one again.
		if err := s.Gvisor().AddStaticNeighbor(n.NICID(), header.IPv4ProtocolNumber, tcpip.AddrFrom4(ipB), "\x02\x00\x00\x00\x00\x02"); err != nil {
			t.Fatal(err)
		}
	}

	// Without the fast path: the errors to match.
	if err := n.Down(); err != nil {
		t.Fatal(err)
	}
	downErr := sendErr()
	up()
	if downErr == nil {
		t.Fatal("send on a down interface succeeded without the fast path")
	}
	log.take()

	so.SetUDPFastPath(s.Netifs.FrameOut)
	gv := s.Gvisor()
	udpSent, ipSent := gv.Stats().UDP.PacketsSent.Value(), gv.Stats().IP.PacketsSent.Value()
	nicTx := gv.NICInfo()[n.NICID()].Stats.Tx.Packets.Value()
	sendOK(10)
	if got := socket.UDPFastSent(so); got != 9 {
		t.Fatalf("fast path sent %d of 10, want 9", got)
	}
	if d := gv.Stats().UDP.PacketsSent.Value() - udpSent; d != 10 {
		t.Errorf("UDP PacketsSent moved by %d, want 10", d)
	}
	if d := gv.Stats().IP.PacketsSent.Value() - ipSent; d != 10 {
		t.Errorf("IP PacketsSent moved by %d, want 10", d)
	}
	if d := gv.NICInfo()[n.NICID()].Stats.Tx.Packets.Value() - nicTx; d != 10 {
		t.Errorf("NIC Tx.Packets moved by %d, want 10", d)
	}

	if err := so.SetOptionInt(unix.IPPROTO_IP, unix.IP_TTL, 9); err != nil {
		t.Fatal(err)
	}
	sendOK(3)
	frames := log.take()
	for i, f := range frames[len(frames)-3:] {
		if ttl := header.IPv4(f[header.EthernetMinimumSize:]).TTL(); ttl != 9 {
			t.Errorf("datagram %d after IP_TTL 9: TTL %d", i, ttl)
		}
	}
	if got := socket.UDPFastSent(so); got != 11 {
		t.Errorf("fast path sent %d, want 11 (the first after the change went through gVisor)", got)
	}

	if err := n.Down(); err != nil {
		t.Fatal(err)
	}
	if err := sendErr(); err != downErr {
		t.Errorf("send on a down interface with the fast path: %v, without: %v", err, downErr)
	}
	if f := log.take(); len(f) != 0 {
		t.Errorf("%d frames written on a down interface", len(f))
	}
	up()
	sendOK(3)
	if err := so.Shutdown(unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if err := sendErr(); err != unix.EPIPE {
		t.Errorf("send after SHUT_WR: %v, want EPIPE", err)
	}
}

// portUnreachable is the ICMP error a peer sends back for frame (an
// Ethernet frame of ours carrying a UDP datagram to a closed port).
func portUnreachable(frame []byte) []byte {
	orig := header.IPv4(frame[header.EthernetMinimumSize:])
	quoted := frame[header.EthernetMinimumSize : header.EthernetMinimumSize+header.IPv4MinimumSize+header.UDPMinimumSize]
	icmp := header.ICMPv4(make([]byte, header.ICMPv4MinimumSize+len(quoted)))
	icmp.SetType(header.ICMPv4DstUnreachable)
	icmp.SetCode(header.ICMPv4PortUnreachable)
	copy(icmp[header.ICMPv4MinimumSize:], quoted)
	icmp.SetChecksum(^checksum.Checksum(icmp, 0))
	out := make([]byte, header.EthernetMinimumSize+header.IPv4MinimumSize+len(icmp))
	header.Ethernet(out).Encode(&header.EthernetFields{SrcAddr: header.Ethernet(frame).DestinationAddress(),
		DstAddr: header.Ethernet(frame).SourceAddress(), Type: header.IPv4ProtocolNumber})
	ip := header.IPv4(out[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(header.IPv4MinimumSize + len(icmp)), TTL: 64,
		Protocol: uint8(header.ICMPv4ProtocolNumber), SrcAddr: orig.DestinationAddress(), DstAddr: orig.SourceAddress()})
	ip.SetChecksum(^ip.CalculateChecksum())
	copy(out[header.EthernetMinimumSize+header.IPv4MinimumSize:], icmp)
	return out
}

// TestUDPFastPathReportsICMPErrors checks that a port unreachable for a
// datagram of the fast path makes the next send fail with ECONNREFUSED,
// once, as without the fast path.
func TestUDPFastPathReportsICMPErrors(t *testing.T) {
	defer socket.SetUDPFastRefresh(socket.SetUDPFastRefresh(int64(time.Minute)))
	for _, fast := range []bool{false, true} {
		t.Run(fmt.Sprintf("fast=%v", fast), func(t *testing.T) {
			s, err := gonetif.New(stack.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			log := &frameLog{}
			link := driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x00\x01", Transmit: log.transmit})
			so := connectedUDPOver(t, s, link, 5414)
			if fast {
				so.SetUDPFastPath(s.Netifs.FrameOut)
			}
			msg := make([]byte, 64)
			for i := 0; i < 3; i++ {
				if _, err := so.Send(msg, nil, socket.SendFlags{}); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			if fast && socket.UDPFastSent(so) != 2 {
				t.Fatalf("fast path sent %d of 3, want 2", socket.UDPFastSent(so))
			}
			frames := log.take()
			if !link.Receive(portUnreachable(frames[len(frames)-1])) {
				t.Fatal("the ICMP error was not taken")
			}
			var got error
			deadline := time.Now().Add(2 * time.Second)
			for got == nil && time.Now().Before(deadline) {
				_, got = so.Send(msg, nil, socket.SendFlags{})
				if got == nil {
					time.Sleep(time.Millisecond)
				}
			}
			if got != unix.ECONNREFUSED {
				t.Fatalf("send after a port unreachable: %v, want ECONNREFUSED", got)
			}
			if _, err := so.Send(msg, nil, socket.SendFlags{}); err != nil {
				t.Errorf("the send after the reported error: %v, want success", err)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for the capture's flush timer.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) count(marker []byte) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Count(l.b.Bytes(), marker)
}

// TestUDPFastPathFramesAreCaptured checks that a packet capture on the
// interface's link records the fast path's datagrams, every one.
func TestUDPFastPathFramesAreCaptured(t *testing.T) {
	defer socket.SetUDPFastRefresh(socket.SetUDPFastRefresh(int64(time.Minute)))
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	log := &frameLog{}
	pcap := &lockedBuffer{}
	link, err := capture.NewWriter(driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x00\x01", Transmit: log.transmit}), pcap, 0)
	if err != nil {
		t.Fatal(err)
	}
	so := connectedUDPOver(t, s, link, 5415)
	so.SetUDPFastPath(s.Netifs.FrameOut)
	marker := []byte("gonetif fast path marker")
	const k = 20
	for i := 0; i < k; i++ {
		if _, err := so.Send(marker, nil, socket.SendFlags{}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if got := socket.UDPFastSent(so); got != k-1 {
		t.Fatalf("fast path sent %d of %d, want %d", got, k, k-1)
	}
	if err := link.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := pcap.count(marker); got != k {
		t.Errorf("the capture holds %d of the %d datagrams", got, k)
	}
	if got := len(log.take()); got != k {
		t.Errorf("the link below the capture got %d of %d", got, k)
	}
}
