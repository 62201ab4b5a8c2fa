package stack_test

import (
	"context"
	"io"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/internal/leakcheck"
	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

// liveHeap: live bytes, not HeapInuse, which also counts the holes
// aborted endpoints leave in their spans.
var liveHeap = leakcheck.LiveHeap

var (
	twClient = netip.MustParseAddr("10.7.1.1")
	twServer = netip.MustParseAddr("10.7.1.2")
)

// twNet is a client stack with opts and a default server stack on one cable.
func twNet(t *testing.T, opts stack.Options) (client, server *gonetif.Stack) {
	t.Helper()
	p := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x01\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x01\x02"), 0)
	up := func(o stack.Options, key string, link *driver.Endpoint, addr netip.Addr) *gonetif.Stack {
		s, err := gonetif.New(o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddInterface(netif.Config{Key: key, Desc: key, Flags: netif.FlagAutoUp, RoutePrio: 100,
			IPInfo: netif.IPInfo{IP: addr, Netmask: netip.MustParseAddr("255.255.255.0")}}, link); err != nil {
			t.Fatal(err)
		}
		return s
	}
	client = up(opts, "C", p.A, twClient)
	server = up(stack.Options{}, "S", p.B, twServer)
	t.Cleanup(func() {
		client.Close()
		server.Close()
		p.Close()
	})
	return client, server
}

// churn opens n connections from client to server, each sending a byte and
// closed by the client first, so the client keeps TIME_WAIT.
func churn(t *testing.T, client, server *gonetif.Stack, n int) time.Duration {
	t.Helper()
	l, err := server.ListenTCP(netip.AddrPortFrom(twServer, 80))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				// Until the client's FIN (no deadline: its timer would
				// keep the endpoint in memory for as long).
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := client.DialTCP(ctx, netip.AddrPortFrom(twServer, 80))
		cancel()
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatalf("connection %d: write: %v", i, err)
		}
		c.Close()
	}
	return time.Since(start)
}

// connected waits (bounded) until the client's connected count (which
// includes TIME_WAIT) settles at or below want, and returns it.
func connected(s *gonetif.Stack, want uint64, within time.Duration) uint64 {
	deadline := time.Now().Add(within)
	for {
		n := s.Gvisor().Stats().TCP.CurrentConnected.Value()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTimeWaitBounded: 10 000 closed connections leave at most the
// default MaxTimeWait endpoints in TIME_WAIT, and the heap grows by no
// more than that many endpoints' worth; unbounded, the same churn keeps
// all 10 000 (about 75 MB).
func TestTimeWaitBounded(t *testing.T) {
	const conns = 10000
	client, server := twNet(t, stack.Options{})
	churn(t, client, server, 200) // warm-up: pools, goroutines
	before := liveHeap()
	elapsed := churn(t, client, server, conns)
	max := uint64(stack.DefaultMaxTimeWait)
	n := connected(client, max, 5*time.Second)
	growth := int64(liveHeap()) - int64(before)
	t.Logf("%d connections in %v (%.0f/s): %d left in TIME_WAIT, heap %+.1f MB",
		conns, elapsed.Round(time.Millisecond), conns/elapsed.Seconds(), n, float64(growth)/1e6)
	if n > max {
		t.Errorf("%d connections still in TIME_WAIT, want at most %d", n, max)
	}
	// 8 KB per endpoint kept plus 8 MB for pools and timers.
	if limit := int64(max)*8<<10 + 8<<20; growth > limit {
		t.Errorf("heap grew %.1f MB after %d closed connections, want at most %.1f MB", float64(growth)/1e6, conns, float64(limit)/1e6)
	}
}

// TestTimeWaitLimitSmall: a small MaxTimeWait is enforced too, and the
// connections it aborts early leave their ports free for new ones.
func TestTimeWaitLimitSmall(t *testing.T) {
	client, server := twNet(t, stack.Options{MaxTimeWait: 100})
	churn(t, client, server, 2000)
	if n := connected(client, 100, 5*time.Second); n > 100 {
		t.Fatalf("%d connections in TIME_WAIT, want at most 100", n)
	}
	churn(t, client, server, 500) // ports reused after the aborts
}

// TestTimeWaitUnbounded: with the limit off, TIME_WAIT lasts its 60 s,
// as on Linux: every closed connection is still there.
func TestTimeWaitUnbounded(t *testing.T) {
	client, server := twNet(t, stack.Options{})
	churn(t, client, server, 1000)
	time.Sleep(500 * time.Millisecond) // longer than the limit's scan
	// A connection or two may end otherwise under the race detector's
	// timing; the limit would have cut them to 100.
	if n := client.Gvisor().Stats().TCP.CurrentConnected.Value(); n < 950 {
		t.Fatalf("%d connections in TIME_WAIT, want (nearly) all 1000", n)
	}
}

// TestTimeWaitNoScanWhileEstablished: connections held open beyond
// MaxTimeWait are not TIME_WAIT, so the limit's scans (5 a second, each
// walking every endpoint) do not run and an idle stack allocates nothing.
func TestTimeWaitNoScanWhileEstablished(t *testing.T) {
	const open = 600
	client, server := twNet(t, stack.Options{MaxTimeWait: 100})
	l, err := server.ListenTCP(netip.AddrPortFrom(twServer, 80))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns []io.Closer
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < open; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := client.DialTCP(ctx, netip.AddrPortFrom(twServer, 80))
		cancel()
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		s, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, s)
	}
	time.Sleep(300 * time.Millisecond) // handshakes' last ACKs
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	before := m.TotalAlloc
	time.Sleep(time.Second)
	runtime.ReadMemStats(&m)
	idle := m.TotalAlloc - before
	t.Logf("%d connections open, MaxTimeWait 100: %d bytes allocated in 1 s of idle", open, idle)
	// Measured: 195 KB with the scans running, 1 KB without.
	if idle > 16<<10 {
		t.Errorf("%d bytes allocated while idle, want under 16 KiB (a TIME_WAIT scan ran?)", idle)
	}
}
