package delay_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/delay"
	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/internal/lantest"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want delay.Spec
	}{
		{"", delay.Spec{}},
		{"0", delay.Spec{}},
		{"20ms", delay.Spec{Delay: 20 * time.Millisecond}},
		{" 1.5s ", delay.Spec{Delay: 1500 * time.Millisecond}},
		{"20ms/5ms", delay.Spec{Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}},
		{"10ms / 10ms", delay.Spec{Delay: 10 * time.Millisecond, Jitter: 10 * time.Millisecond}},
		{"250us/0s", delay.Spec{Delay: 250 * time.Microsecond}},
	} {
		got, err := delay.ParseSpec(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if err == nil && !got.IsZero() {
			if back, err := delay.ParseSpec(got.String()); err != nil || back != got {
				t.Errorf("String() %q does not parse back: %+v, %v", got.String(), back, err)
			}
		}
	}
	for _, bad := range []string{"20", "fast", "-5ms", "20ms/", "20ms/30ms", "5ms/x", "2h", "1ms/2ms/3ms"} {
		_, err := delay.ParseSpec(bad)
		var de *delay.Error
		if !errors.As(err, &de) || !errors.Is(err, unix.EINVAL) {
			t.Errorf("ParseSpec(%q) = %v, want a *delay.Error wrapping EINVAL", bad, err)
		}
	}
	if _, err := delay.New(channel.New(1, 1500, ""), delay.Options{In: delay.Spec{Delay: -1}}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("negative delay accepted: %v", err)
	}
	if _, err := delay.New(nil, delay.Options{}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("nil lower accepted: %v", err)
	}
}

// arrivals records received frames: their sequence number and when.
type arrivals struct {
	mu    sync.Mutex
	seq   []uint32
	times []time.Time
}

func (a *arrivals) DeliverNetworkPacket(_ tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	b := pkt.ToView().AsSlice()
	a.mu.Lock()
	a.seq = append(a.seq, binary.BigEndian.Uint32(b))
	a.times = append(a.times, time.Now())
	a.mu.Unlock()
}
func (a *arrivals) DeliverLinkPacket(tcpip.NetworkProtocolNumber, *stack.PacketBuffer) {}

func (a *arrivals) wait(t *testing.T, n int) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		a.mu.Lock()
		got := len(a.seq)
		a.mu.Unlock()
		if got >= n {
			return
		}
	}
	t.Fatalf("only %d of %d frames arrived", len(a.seq), n)
}

func frame(i uint32) *stack.PacketBuffer {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:], i)
	return stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(b[:])})
}

// inbound pushes n frames, gap apart, through the receive side of a delay
// layer and returns when each was sent and what arrived.
func inbound(t *testing.T, spec delay.Spec, n int, gap time.Duration) ([]time.Time, *arrivals) {
	t.Helper()
	lower := channel.New(1, 1500, "")
	e, err := delay.New(lower, delay.Options{In: spec, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a := &arrivals{}
	e.Attach(a)
	sent := make([]time.Time, n)
	for i := 0; i < n; i++ {
		sent[i] = time.Now()
		pkt := frame(uint32(i))
		lower.InjectInbound(ipv4.ProtocolNumber, pkt)
		pkt.DecRef()
		if gap > 0 {
			time.Sleep(gap)
		}
	}
	a.wait(t, n)
	return sent, a
}

// slack is what a busy 2-core machine may add to a typical timer; late is
// what it may add to the odd one (a GC pause, another process's burst).
// Lower bounds are exact: a frame must never leave early.
const (
	slack = 40 * time.Millisecond
	late  = 250 * time.Millisecond
)

func median(lags []time.Duration) time.Duration {
	s := append([]time.Duration(nil), lags...)
	sort.Slice(s, func(x, y int) bool { return s[x] < s[y] })
	return s[len(s)/2]
}

func TestFixedDelayKeepsOrder(t *testing.T) {
	const d = 30 * time.Millisecond
	sent, a := inbound(t, delay.Spec{Delay: d}, 200, 50*time.Microsecond)
	var lags []time.Duration
	for i, s := range a.seq {
		if s != uint32(i) {
			t.Fatalf("frame %d arrived as number %d: order changed without jitter", s, i)
		}
		lag := a.times[i].Sub(sent[s])
		if lag < d || lag > d+late {
			t.Fatalf("frame %d delayed %v, want %v", s, lag, d)
		}
		lags = append(lags, lag)
	}
	if m := median(lags); m > d+slack {
		t.Fatalf("median delay %v, want %v", m, d)
	}
}

func TestJitterSpreadsAndReorders(t *testing.T) {
	const d, j = 20 * time.Millisecond, 15 * time.Millisecond
	sent, a := inbound(t, delay.Spec{Delay: d, Jitter: j}, 300, 100*time.Microsecond)
	var lags []time.Duration
	reordered := 0
	for i, s := range a.seq {
		lag := a.times[i].Sub(sent[s])
		if lag < d-j || lag > d+j+late {
			t.Fatalf("frame %d delayed %v, want %v ± %v", s, lag, d, j)
		}
		lags = append(lags, lag)
		if i > 0 && s < a.seq[i-1] {
			reordered++
		}
	}
	if m := median(lags); m < d-j/2 || m > d+j/2+slack {
		t.Errorf("median delay %v, want about %v", m, d)
	}
	sort.Slice(lags, func(x, y int) bool { return lags[x] < lags[y] })
	if spread := lags[len(lags)*9/10] - lags[len(lags)/10]; spread < j {
		t.Errorf("10th-90th percentile spread %v, want about 1.6 × %v", spread, j)
	}
	if reordered == 0 {
		t.Errorf("no frame overtook another with %v jitter and frames 100 µs apart", j)
	}
}

func TestOutboundDelayAndBoundedQueue(t *testing.T) {
	lower := channel.New(1000, 1500, "")
	e, err := delay.New(lower, delay.Options{Out: delay.Spec{Delay: 50 * time.Millisecond}, QueueLen: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	start := time.Now()
	var l stack.PacketBufferList
	for i := 0; i < 100; i++ {
		l.PushBack(frame(uint32(i)))
	}
	if n, err := e.WritePackets(l); n != 100 || err != nil {
		t.Fatalf("WritePackets = %d, %v", n, err)
	}
	l.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 10; i++ {
		pkt := lower.ReadContext(ctx)
		if pkt == nil {
			t.Fatalf("frame %d never left", i)
		}
		if got := binary.BigEndian.Uint32(pkt.ToView().AsSlice()); got != uint32(i) {
			t.Fatalf("frame %d left as %d", i, got)
		}
		pkt.DecRef()
	}
	if lag := time.Since(start); lag < 50*time.Millisecond {
		t.Fatalf("frames left after %v, before the 50 ms delay", lag)
	}
	time.Sleep(100 * time.Millisecond)
	if n := lower.NumQueued(); n != 0 {
		t.Fatalf("%d frames beyond the queue bound got through", n)
	}
	if in, out := e.Dropped(); in != 0 || out != 90 {
		t.Fatalf("Dropped() = %d, %d; want 0, 90", in, out)
	}
}

// measureRTT returns the smallest of 10 UDP round trips from a to an echo
// on b.
func measureRTT(t *testing.T, a, b *gonetif.Stack) time.Duration {
	t.Helper()
	to := netip.AddrPortFrom(lantest.Addr(2), 9000)
	srv, err := b.ListenUDP(to)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			_ = srv.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = srv.WriteTo(buf[:n], from)
		}
	}()
	c, err := a.DialUDP(to)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	best := time.Duration(1 << 62)
	buf := make([]byte, 64)
	got := 0
	for try := 0; try < 40 && got < 10; try++ {
		start := time.Now()
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(buf); err != nil {
			continue // the first may wait on ARP, itself delayed
		}
		got++
		best = min(best, time.Since(start))
	}
	if got == 0 {
		t.Fatal("no echo came back")
	}
	return best
}

func TestRTTThroughTwoStacks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		aIn, aOut time.Duration
		bIn, bOut time.Duration
		wantRTT   time.Duration
	}{
		{name: "none"},
		{name: "A out 20ms", aOut: 20 * time.Millisecond, wantRTT: 20 * time.Millisecond},
		{name: "A in 15ms, out 25ms", aIn: 15 * time.Millisecond, aOut: 25 * time.Millisecond, wantRTT: 40 * time.Millisecond},
		{name: "both sides 10ms each way", aIn: 10 * time.Millisecond, aOut: 10 * time.Millisecond,
			bIn: 10 * time.Millisecond, bOut: 10 * time.Millisecond, wantRTT: 40 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pair.New("\x02\x00\x00\x00\x30\x01", "\x02\x00\x00\x00\x30\x02", 0)
			t.Cleanup(p.Close)
			la, err := delay.New(p.A, delay.Options{In: delay.Spec{Delay: tc.aIn}, Out: delay.Spec{Delay: tc.aOut}})
			if err != nil {
				t.Fatal(err)
			}
			lb, err := delay.New(p.B, delay.Options{In: delay.Spec{Delay: tc.bIn}, Out: delay.Spec{Delay: tc.bOut}})
			if err != nil {
				t.Fatal(err)
			}
			a := lantest.Stack(t, "A", la, lantest.Addr(1))
			b := lantest.Stack(t, "B", lb, lantest.Addr(2))
			got := measureRTT(t, a, b)
			t.Logf("RTT %v, expected %v", got, tc.wantRTT)
			if got < tc.wantRTT || got > tc.wantRTT+slack {
				t.Fatalf("RTT %v, want %v (+ up to %v)", got, tc.wantRTT, slack)
			}
			// TCP still delivers byte-exact over the long cable.
			lantest.TCPEcho(t, a, b, lantest.Addr(2), 9001, 256<<10)
		})
	}
}

func TestCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	lower := channel.New(10, 1500, "")
	e, err := delay.New(lower, delay.Options{In: delay.Spec{Delay: time.Second}, Out: delay.Spec{Delay: time.Second, Jitter: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	e.Attach(&arrivals{})
	var l stack.PacketBufferList
	for i := 0; i < 5; i++ {
		l.PushBack(frame(uint32(i)))
		pkt := frame(uint32(i))
		lower.InjectInbound(ipv4.ProtocolNumber, pkt)
		pkt.DecRef()
	}
	_, _ = e.WritePackets(l)
	l.Reset()
	e.Close()
	e.Close() // twice is fine
	// Frames still held were dropped, not sent late after Close.
	time.Sleep(20 * time.Millisecond)
	if n := lower.NumQueued(); n != 0 {
		t.Fatalf("%d frames sent after Close", n)
	}
	lantest.NoLeak(t, before)
}
