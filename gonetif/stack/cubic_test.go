package stack_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/netip"
	"slices"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"gonetif.dev/gonetif/link/loss"
	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/stack"
)

// TestGvisorCubicNoStall sends 4 MB with Cubic congestion control over an
// in-memory cable losing 10 % of frames each way (5 ms RTO floor) and
// wants every byte at the peer within 40 s. The pinned gVisor's Cubic let
// an ACK shrink the window in congestion avoidance, down to 0 from a small
// one, and the sender then never sent again (internal/gvisorfix, the
// cubic.go edit). Built without the overlay (GOFLAGS empty) it is expected
// to fail: measured, the transfer stalls until the deadline.
func TestGvisorCubicNoStall(t *testing.T) {
	p := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x06\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x06\x02"), 0)
	lossy, err := loss.New(p.A, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	opts := stack.Options{MinRTO: 5 * time.Millisecond}
	cAddr, sAddr := netip.MustParseAddr("10.7.6.1"), netip.MustParseAddr("10.7.6.2")
	client, server := cableStacks(t, opts, opts, lossy, p.B, cAddr, sAddr, p.Close)
	cc := tcpip.CongestionControlOption("cubic")
	if err := client.Gvisor().SetTransportProtocolOption(tcp.ProtocolNumber, &cc); err != nil {
		t.Fatalf("cubic: %v", err)
	}
	l, err := server.ListenTCP(netip.AddrPortFrom(sAddr, 80))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	size := 4 << 20
	if raceEnabled {
		size = 1 << 20
	}
	payload := make([]byte, size)
	rand.Read(payload)
	const limit = 40 * time.Second
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(limit + 5*time.Second))
		b, _ := io.ReadAll(c)
		got <- b
	}()

	// The handshake without loss: a lost SYN's back-off is not the point.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	c, err := client.DialTCP(ctx, netip.AddrPortFrom(sAddr, 80))
	cancel()
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	setLoss(t, lossy, 10)
	start := time.Now()
	c.SetWriteDeadline(start.Add(limit))
	if _, err := c.Write(payload); err != nil {
		t.Fatalf("write after %v (%d frames dropped): %v; the client's congestion windows: %v", time.Since(start).Round(time.Millisecond), dropped(lossy), err, sendWindows(client.Gvisor()))
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, payload) {
			t.Fatalf("peer received %d bytes, want the %d sent", len(b), len(payload))
		}
	case <-time.After(limit):
		t.Fatalf("the peer did not have all %d bytes %v after the write returned; the client's congestion windows: %v", len(payload), limit, sendWindows(client.Gvisor()))
	}
	t.Logf("%d MB with Cubic at 10 %% loss each way in %v (%d frames dropped)", size>>20, time.Since(start).Round(time.Millisecond), dropped(lossy))
}

// sendWindows lists the congestion window of each TCP endpoint of s.
func sendWindows(s *gvstack.Stack) []uint32 {
	var cwnds []uint32
	for _, e := range s.RegisteredEndpoints() {
		if ep, ok := e.(tcpip.Endpoint); ok {
			var info tcpip.TCPInfoOption
			if ep.GetSockOpt(&info) == nil {
				cwnds = append(cwnds, info.SndCwnd)
			}
		}
	}
	return cwnds
}

// TestGvisorCubicKeepsUpWithReno sends 4 MB over the same kind of lossy
// cable (5 % each way, 5 ms RTO floor) with Reno and with Cubic,
// alternated, five times each, and wants Cubic's median time within 3x of
// Reno's: Cubic keeps an estimate of Reno's window and is designed never
// to be slower. The pinned gVisor's Cubic took 3.7-5.5x Reno's time here
// (~15x its timeouts): its Reno estimate grew per 1 ms of smoothed RTT
// (timestamp granularity) instead of per ACK (internal/gvisorfix,
// cubicRenoWhy). Measured with the fix: 0.88-1.23x. Since RTT samples are
// taken in microseconds (rttWhy) 0.95-1.41x on a loaded machine and 2.06x
// once on a quiet one (Cubic's timeouts 17 against Reno's 6), hence the
// bound of 3x, still below the defect's 3.7x. At 10 % loss the same
// comparison swings too much under load to bound (1.4-4.0x with the fix,
// 4.8-8.1x without).
func TestGvisorCubicKeepsUpWithReno(t *testing.T) {
	size := 4 << 20
	if raceEnabled {
		size = 1 << 20
	}
	payload := make([]byte, size)
	rand.Read(payload)
	times := map[string][]time.Duration{}
	timeouts := map[string]uint64{}
	for i := 0; i < 5; i++ {
		for _, cc := range []string{"reno", "cubic"} {
			took, rtos := lossyTransfer(t, cc, payload, 5)
			times[cc] = append(times[cc], took)
			timeouts[cc] += rtos
		}
	}
	reno, cubic := medianDuration(times["reno"]), medianDuration(times["cubic"])
	t.Logf("%d KB at 5 %% loss each way: Reno %v (timeouts %d), Cubic %v (timeouts %d), Cubic / Reno %.2f",
		size>>10, times["reno"], timeouts["reno"], times["cubic"], timeouts["cubic"], float64(cubic)/float64(reno))
	if cubic > 3*reno {
		t.Errorf("Cubic's median %v is more than 3x Reno's %v", cubic, reno)
	}
}

// lossyTransfer sends payload from a client using congestion control cc
// to a server over an in-memory cable losing pct % of frames each way
// (the handshake without loss) and returns the time from the first write
// to the peer's last byte and the client's retransmission timeouts.
func lossyTransfer(t *testing.T, cc string, payload []byte, pct int) (time.Duration, uint64) {
	t.Helper()
	p := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x06\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x06\x02"), 0)
	lossy, err := loss.New(p.A, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	opts := stack.Options{MinRTO: 5 * time.Millisecond}
	cAddr, sAddr := netip.MustParseAddr("10.7.6.1"), netip.MustParseAddr("10.7.6.2")
	client, server := cableStacks(t, opts, opts, lossy, p.B, cAddr, sAddr, p.Close)
	opt := tcpip.CongestionControlOption(cc)
	if err := client.Gvisor().SetTransportProtocolOption(tcp.ProtocolNumber, &opt); err != nil {
		t.Fatalf("%s: %v", cc, err)
	}
	l, err := server.ListenTCP(netip.AddrPortFrom(sAddr, 80))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const limit = 30 * time.Second
	got := make(chan int, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(limit + 5*time.Second))
		n, _ := io.Copy(io.Discard, c)
		got <- int(n)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	c, err := client.DialTCP(ctx, netip.AddrPortFrom(sAddr, 80))
	cancel()
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	setLoss(t, lossy, pct)
	rtos := client.Gvisor().Stats().TCP.Timeouts.Value()
	start := time.Now()
	c.SetWriteDeadline(start.Add(limit))
	if _, err := c.Write(payload); err != nil {
		t.Fatalf("%s: write after %v: %v", cc, time.Since(start).Round(time.Millisecond), err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != len(payload) {
			t.Fatalf("%s: peer received %d bytes, want %d", cc, n, len(payload))
		}
	case <-time.After(limit):
		t.Fatalf("%s: the peer did not have all %d bytes %v after the write returned", cc, len(payload), limit)
	}
	return time.Since(start), client.Gvisor().Stats().TCP.Timeouts.Value() - rtos
}

func medianDuration(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
