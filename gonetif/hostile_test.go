package gonetif_test

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif/internal/hostile"
	"gonetif.dev/gonetif/internal/leakcheck"
	"gonetif.dev/gonetif/internal/testnet"
)

// dialEcho connects B to the echo service on A.
func dialEcho(t *testing.T, n *testnet.Net, port uint16) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := n.B.DialTCP(ctx, netip.AddrPortFrom(testnet.AddrA, port))
	if err != nil {
		t.Fatalf("dial the service: %v", err)
	}
	return c
}

// echoOnce sends data through a new echo connection and checks every byte.
func echoOnce(t *testing.T, n *testnet.Net, port uint16, data []byte) {
	t.Helper()
	c := dialEcho(t, n, port)
	defer c.Close()
	echoOn(t, c, data)
}

func echoOn(t *testing.T, c net.Conn, data []byte) {
	t.Helper()
	if err := hostile.Echo(c, data); err != nil {
		t.Fatal(err)
	}
}

// TestHostileFrames injects a million malformed frames into a stack while
// it serves TCP echo to its real peer: the service keeps answering
// byte-exact during and after, and goroutines and heap come back flat.
func TestHostileFrames(t *testing.T) {
	frames := 1_000_000
	if raceEnabled {
		frames = 100_000 // the race detector makes each frame ~10x dearer
	}
	if testing.Short() {
		frames = 50_000
	}
	n := testnet.New(t)
	const port = 7
	ln, err := n.A.ListenTCP(netip.AddrPortFrom(netip.IPv4Unspecified(), port))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go hostile.ServeEcho(ln)
	data := make([]byte, 1<<20)
	_, _ = rand.Read(data)
	echoOnce(t, n, port, data) // warm-up
	flood := leakcheck.StartFlood()

	// Real traffic while the garbage flows, on one connection (new ones
	// would each leave a TIME_WAIT endpoint and blur the heap figure).
	var rounds atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	live := dialEcho(t, n, port)
	go func() {
		defer wg.Done()
		defer live.Close()
		for {
			select {
			case <-stop:
				return
			default:
			}
			echoOn(t, live, data[:64<<10])
			rounds.Add(1)
		}
	}()

	mac := tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01") // testnet's A
	gen := hostile.New(1, mac, tcpip.AddrFrom4(testnet.AddrA.As4()), tcpip.AddrFrom4([4]byte{10, 7, 0, 77}))
	start := time.Now()
	for i := 0; i < frames; i++ {
		if i == frames/2 {
			flood.HalfWay()
		}
		n.Pair.A.Receive(gen.Next())
		if time.Since(start) > 5*time.Minute {
			t.Fatalf("only %d frames in 5 minutes", i)
		}
	}
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	t.Logf("%d hostile frames in %v (%.0f/s) while %d echo rounds of 64 KiB ran; classes %v",
		frames, elapsed.Round(time.Millisecond), float64(frames)/elapsed.Seconds(), rounds.Load(), gen.Classes)
	if rounds.Load() == 0 {
		t.Errorf("no echo round completed while the frames flowed")
	}

	echoOnce(t, n, port, data) // byte-exact after the flood

	// Pending fragment reassembly (bounded by gVisor at 4 MiB) and
	// neighbor/route caches may stay; the frames themselves must not.
	flood.Check(t)
	st := n.A.Gvisor().Stats()
	t.Logf("stack A: %d malformed IP, %d malformed TCP/UDP, %d bad checksums, %d fragments dropped",
		st.IP.MalformedPacketsReceived.Value(), st.TCP.InvalidSegmentsReceived.Value()+st.UDP.MalformedPacketsReceived.Value(),
		st.TCP.ChecksumErrors.Value()+st.UDP.ChecksumErrors.Value(), st.IP.MalformedFragmentsReceived.Value())
}
