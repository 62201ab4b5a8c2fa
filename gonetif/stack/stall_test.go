package stack_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"gonetif.dev/gonetif/link/loss"
	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/stack"
)

var stallTransfers = flag.Int("stall.transfers", 2000, "TestGvisorStalledSender: transfers to run (bounded by 90 s)")

var (
	stallClient = netip.MustParseAddr("10.7.2.1")
	stallServer = netip.MustParseAddr("10.7.2.2")
)

// TestGvisorStalledSender runs many short transfers (48 KiB, then the
// sender's FIN), 12 at a time, over an in-memory cable losing 10 % of
// frames each way once the connections are up, and fails when one is not
// answered within 10 s of its FIN (with a 5 ms RTO floor, backoffs that
// long need a dozen losses of one segment in a row). The pinned gVisor's sender can
// be left with data (or its FIN) unacknowledged and no timer armed after a
// tail loss probe (internal/gvisorfix); it then never sends again and the
// transfer hangs in FIN-WAIT1. Built with the overlay (scripts/test,
// CMake) every transfer completes; built without it, this test is
// expected to fail (go test -run GvisorStalled ./gonetif/stack with GOFLAGS
// empty: see the README's "gVisor fix").
func TestGvisorStalledSender(t *testing.T) {
	p := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x02\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x02\x02"), 0)
	lossy, err := loss.New(p.A, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A low RTO floor, as on the TAP loss tests, so recoveries take
	// milliseconds and many transfers fit in the time.
	opts := stack.Options{MinRTO: 5 * time.Millisecond}
	// The client's last sender state per connection, for the report of a
	// stall (a wedged one: Outstanding 0, SndUna != SndNxt, a small RTO).
	var probeMu sync.Mutex
	last := map[uint16]tcp.TCPSenderState{}
	copts := opts
	copts.TCPProbe = func(st *tcp.TCPEndpointState) {
		probeMu.Lock()
		last[st.ID.LocalPort] = st.Sender
		probeMu.Unlock()
	}
	client, server := cableStacks(t, copts, opts, lossy, p.B, stallClient, stallServer, p.Close)
	l, err := server.ListenTCP(netip.AddrPortFrom(stallServer, 80))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	const size = 48 << 10
	const parallel = 12
	// A transfer that got nothing new for this long has stalled: at 10 %
	// loss and a 5 ms floor, backoffs this long need many losses in a row.
	const stallAfter = 10 * time.Second
	payload := make([]byte, size)
	rand.Read(payload)

	// The server checks each connection's bytes up to the client's FIN.
	var badMu sync.Mutex
	bad := 0
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				got, err := io.ReadAll(c)
				if err == nil && !bytes.Equal(got, payload) {
					// Reported by the test, not here: a stalled
					// connection ends after the test does.
					badMu.Lock()
					bad++
					badMu.Unlock()
				}
				_, _ = c.Write([]byte{1}) // done: the client waits for this
			}()
		}
	}()

	transfer := func(c *gonet.TCPConn) error {
		defer c.Close()
		if _, err := c.Write(payload); err != nil {
			return fmt.Errorf("write: %v", err)
		}
		if err := c.CloseWrite(); err != nil {
			return fmt.Errorf("close write: %v", err)
		}
		var b [1]byte
		c.SetReadDeadline(time.Now().Add(stallAfter))
		if _, err := io.ReadFull(c, b[:]); err != nil {
			port := c.LocalAddr().(*net.TCPAddr).AddrPort().Port()
			probeMu.Lock()
			st := last[port]
			probeMu.Unlock()
			return fmt.Errorf("no answer within %v after the FIN (%v); client's sender: SndUna %d SndNxt %d Outstanding %d SndCwnd %d RTO %v recovery %v",
				stallAfter, err, st.SndUna, st.SndNxt, st.Outstanding, st.SndCwnd, st.RTO, st.FastRecovery.Active)
		}
		return nil
	}

	want := *stallTransfers
	limit := 90 * time.Second
	if raceEnabled {
		// The plain run is the check; under the race detector a share of
		// it, for races only.
		want, limit = min(want, 240), 60*time.Second
	}
	until := time.Now().Add(limit)
	done := 0
	var mu sync.Mutex
	var failures []string
	for done < want && time.Now().Before(until) && len(failures) == 0 {
		// Connections are set up without loss: a handshake's own back-off
		// (and, built without the overlay, a lost SYN's RTO of seconds)
		// would look like a stall.
		setLoss(t, lossy, 0)
		n := min(parallel, want-done)
		conns := make([]*gonet.TCPConn, n)
		for i := range conns {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			conns[i], err = client.DialTCP(ctx, netip.AddrPortFrom(stallServer, 80))
			cancel()
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
		}
		setLoss(t, lossy, 10)
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := transfer(c); err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		done += n
	}
	setLoss(t, lossy, 0)
	t.Logf("%d transfers of %d KiB, %d stalled; frames dropped: %d", done, size>>10, len(failures), dropped(lossy))
	for _, f := range failures {
		t.Error(f)
	}
	badMu.Lock()
	if bad > 0 {
		t.Errorf("%d connections delivered other bytes than were sent", bad)
	}
	badMu.Unlock()
	if len(failures) == 0 && done < min(want, 100) {
		t.Fatalf("only %d transfers in the time: too few to tell", done)
	}
}

func setLoss(t *testing.T, l *loss.Endpoint, pct int) {
	if err := l.SetPercent(pct, pct); err != nil {
		t.Fatal(err)
	}
}

func dropped(l *loss.Endpoint) uint64 {
	in, out := l.Dropped()
	return in + out
}
