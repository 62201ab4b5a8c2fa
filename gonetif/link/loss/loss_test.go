package loss_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gonetif.dev/gonetif/link/loss"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

func TestInvalidPercent(t *testing.T) {
	lower := channel.New(1, 1500, "")
	for _, p := range [][2]int{{-1, 0}, {0, 101}, {200, 0}} {
		if _, err := loss.New(lower, p[0], p[1]); !errors.Is(err, unix.EINVAL) {
			t.Errorf("New(%d, %d): got %v, want EINVAL", p[0], p[1], err)
		}
	}
	if _, err := loss.New(lower, 0, 100); err != nil {
		t.Errorf("New(0, 100): %v", err)
	}
}

type counter struct{ n int }

func (c *counter) DeliverNetworkPacket(tcpip.NetworkProtocolNumber, *stack.PacketBuffer) { c.n++ }
func (c *counter) DeliverLinkPacket(tcpip.NetworkProtocolNumber, *stack.PacketBuffer)    {}

func newPkt() *stack.PacketBuffer {
	return stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData([]byte{1, 2, 3, 4})})
}

// pattern records which of n received and n sent frames survive.
func pattern(t *testing.T, in, out int, seed uint64, n int) (rx, tx []bool) {
	lower := channel.New(n, 1500, "")
	e, err := loss.New(lower, in, out, loss.WithSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	c := &counter{}
	e.Attach(c)
	for i := 0; i < n; i++ {
		before := c.n
		pkt := newPkt()
		lower.InjectInbound(ipv4.ProtocolNumber, pkt)
		pkt.DecRef()
		rx = append(rx, c.n > before)

		queued := lower.NumQueued()
		var l stack.PacketBufferList
		pkt = newPkt()
		l.PushBack(pkt)
		if k, err := e.WritePackets(l); k != 1 || err != nil {
			t.Fatalf("WritePackets = %d, %v", k, err)
		}
		pkt.DecRef()
		tx = append(tx, lower.NumQueued() > queued)
		lower.Drain()
	}
	din, dout := e.Dropped()
	if int(din) != count(rx, false) || int(dout) != count(tx, false) {
		t.Errorf("Dropped() = %d, %d; observed %d, %d", din, dout, count(rx, false), count(tx, false))
	}
	if fin, fout := e.Frames(); fin != uint64(n) || fout != uint64(n) {
		t.Errorf("Frames() = %d, %d; want %d each", fin, fout, n)
	}
	return rx, tx
}

// TestDropsIndependent: a drop must not make the next frame's drop more or
// less likely, in the same direction or the other one (a retransmission
// right after a lost segment, or the ACK of a frame, would otherwise meet a
// loss that a real link with random loss does not have).
func TestDropsIndependent(t *testing.T) {
	const n, pct = 200000, 5
	rx, tx := pattern(t, pct, pct, 99, n)
	p := float64(pct) / 100
	// Each pair count is binomial around n*p*p = 500 (sigma ~22): 5 sigma.
	check := func(what string, a, b []bool, lag int) {
		both := 0
		for i := 0; i+lag < n; i++ {
			if !a[i] && !b[i+lag] {
				both++
			}
		}
		if want := float64(n) * p * p; float64(both) < want-110 || float64(both) > want+110 {
			t.Errorf("%s: %d drop pairs, want %.0f ± 110", what, both, want)
		}
	}
	for lag := 1; lag <= 3; lag++ {
		check(fmt.Sprintf("received, frames %d apart", lag), rx, rx, lag)
		check(fmt.Sprintf("sent, frames %d apart", lag), tx, tx, lag)
	}
	check("received and sent at the same draw", rx, tx, 0)
	check("sent, then received next", tx, rx, 1)
}

func count(v []bool, want bool) int {
	n := 0
	for _, b := range v {
		if b == want {
			n++
		}
	}
	return n
}

func TestRatesAndDeterminism(t *testing.T) {
	const n = 4000
	rx1, tx1 := pattern(t, 30, 10, 42, n)
	rx2, tx2 := pattern(t, 30, 10, 42, n)
	for i := range rx1 {
		if rx1[i] != rx2[i] || tx1[i] != tx2[i] {
			t.Fatalf("same seed, different pattern at frame %d", i)
		}
	}
	// Binomial: 30 % of 4000 is 1200 ± ~29 (1 sigma); allow 5 sigma.
	if d := count(rx1, false); d < 1055 || d > 1345 {
		t.Errorf("dropped %d of %d received frames at 30%%", d, n)
	}
	if d := count(tx1, false); d < 310 || d > 490 {
		t.Errorf("dropped %d of %d sent frames at 10%%", d, n)
	}
	rx3, _ := pattern(t, 30, 10, 43, n)
	same := 0
	for i := range rx1 {
		if rx1[i] == rx3[i] {
			same++
		}
	}
	if same == n {
		t.Errorf("different seeds gave the same pattern")
	}
	all, none := pattern(t, 100, 0, 1, 100)
	if count(all, true) != 0 || count(none, false) != 0 {
		t.Errorf("100%%/0%% not exact")
	}
}

// TestTCPThroughLoss: TCP between two stacks still delivers every byte when
// 10 % of frames are lost each way.
func TestTCPThroughLoss(t *testing.T) {
	a, b := pipe.New("\x02\x00\x00\x00\x00\x01", "\x02\x00\x00\x00\x00\x02", 1500)
	la, err := loss.New(a, 10, 10, loss.WithSeed(7))
	if err != nil {
		t.Fatal(err)
	}
	sa := newStack(t, la, 1)
	sb := newStack(t, b, 2)
	defer sa.Destroy()
	defer sb.Destroy()

	l, err := gonet.ListenTCP(sb, tcpip.FullAddress{NIC: 1, Addr: addr(2), Port: 80}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	data := make([]byte, 1<<20)
	_, _ = rand.Read(data)
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := gonet.DialContextTCP(ctx, sa, tcpip.FullAddress{NIC: 1, Addr: addr(2), Port: 80}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatalf("dial through 10%% loss: %v", err)
	}
	_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case b := <-got:
		if !bytes.Equal(b, data) {
			t.Fatalf("received %d bytes, not the %d sent", len(b), len(data))
		}
	case <-time.After(40 * time.Second):
		t.Fatal("transfer did not finish")
	}
	in, out := la.Dropped()
	t.Logf("dropped %d in, %d out", in, out)
	if in == 0 || out == 0 {
		t.Errorf("no frames dropped")
	}
}

func addr(i byte) tcpip.Address { return tcpip.AddrFrom4([4]byte{10, 0, 0, i}) }

func newStack(t *testing.T, ep stack.LinkEndpoint, i byte) *stack.Stack {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
	})
	// Short retransmission timers keep the lossy transfer quick and its
	// duration steady (the kernel's own minimum is 200 ms).
	minRTO, maxRTO := tcpip.TCPMinRTOOption(20*time.Millisecond), tcpip.TCPMaxRTOOption(300*time.Millisecond)
	_ = s.SetTransportProtocolOption(tcp.ProtocolNumber, &minRTO)
	_ = s.SetTransportProtocolOption(tcp.ProtocolNumber, &maxRTO)
	if err := s.CreateNIC(1, ep); err != nil {
		t.Fatal(err)
	}
	if err := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr(i), PrefixLen: 24}}, stack.AddressProperties{}); err != nil {
		t.Fatal(err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: 1}})
	return s
}

func TestSetPercent(t *testing.T) {
	e, err := loss.New(channel.New(1, 1500, ""), 0, 0, loss.WithSeed(7))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetPercent(101, 0); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("SetPercent(101, 0): %v, want EINVAL", err)
	}
	for _, pct := range []int{100, 0, 100} {
		if err := e.SetPercent(pct, pct); err != nil {
			t.Fatal(err)
		}
		before, _ := e.Dropped()
		for range 50 {
			pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{})
			e.DeliverNetworkPacket(header.IPv4ProtocolNumber, pkt)
			pkt.DecRef()
		}
		after, _ := e.Dropped()
		if want := uint64(50 * pct / 100); after-before != want {
			t.Errorf("at %d %%: %d of 50 dropped, want %d", pct, after-before, want)
		}
	}
}
