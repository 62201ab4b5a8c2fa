package gonetif_test

import (
	"net/netip"
	"testing"
	"time"

	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/link/delay"
)

// slowAnswers delays every frame B sends by 200 ms, its ARP replies too, so
// a datagram A sends to B first waits that long for B's address.
func slowAnswers(l gvstack.LinkEndpoint) (gvstack.LinkEndpoint, error) {
	return delay.New(l, delay.Options{Out: delay.Spec{Delay: 200 * time.Millisecond}})
}

// A datagram sent just before exit to a neighbour not resolved yet: the
// exit drain waits for the resolution, so it is sent before the stack goes.
func TestDrainAllSendsDatagramWaitingForNeighbour(t *testing.T) {
	n := testnet.NewLayered(t, slowAnswers)
	got := receiveOne(t, n, 7000)
	sendOne(t, n, 7000, "last words")
	start := time.Now()
	left := n.A.DrainAll()
	took := time.Since(start)
	n.A.Close() // the process exits
	if left != (gonetif.Undelivered{}) {
		t.Errorf("DrainAll left %+v", left)
	}
	if took < 150*time.Millisecond || took > 1500*time.Millisecond {
		t.Errorf("DrainAll took %v; the resolution needs about 200 ms", took)
	}
	select {
	case msg := <-got:
		if msg != "last words" {
			t.Fatalf("B received %q", msg)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("B never received the datagram sent before DrainAll")
	}
}

// With ExitLinger 0 nothing is waited for, and the pending resolution is
// reported.
func TestDrainAllWithoutLingerReportsResolution(t *testing.T) {
	n := testnet.NewLayered(t, slowAnswers)
	n.A.ExitLinger = 0
	sendOne(t, n, 7001, "not waited for")
	start := time.Now()
	left := n.A.DrainAll()
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("DrainAll with ExitLinger 0 took %v", took)
	}
	if left.Resolutions != 1 || left.Connections != 0 {
		t.Errorf("DrainAll left %+v, want one resolution", left)
	}
}

func sendOne(t *testing.T, n *testnet.Net, port uint16, msg string) {
	t.Helper()
	c, err := n.A.DialUDP(netip.AddrPortFrom(testnet.AddrB, port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func receiveOne(t *testing.T, n *testnet.Net, port uint16) <-chan string {
	t.Helper()
	c, err := n.B.ListenUDP(netip.AddrPortFrom(testnet.AddrB, port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 100)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if k, _, err := c.ReadFrom(buf); err == nil {
			got <- string(buf[:k])
		}
	}()
	return got
}
