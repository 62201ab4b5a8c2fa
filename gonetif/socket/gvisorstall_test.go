package socket_test

import (
	"errors"
	"flag"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/socket"
)

var gvisorStall = flag.Int("gvisorstall", 0, "TestGvisorTailProbeStall: attempts (0: skip the test)")

// TestGvisorTailProbeStall reproduces the stall behind the CI hang of
// TestCoalesceFullBufferPollAndShutdown, which is gVisor's (the pinned
// version), not the coalescer's. Shrinking SO_RCVBUF on an established
// connection makes gVisor's receiver drop data inside the window it had
// offered; the sender's retransmission timeouts reset its count of packets
// in flight to 0, and later ACKs of data sent before them take the count
// below the truth (clamped at 0). When the last data segment before the
// FIN is then lost, the tail loss probe resends the FIN, and after the
// probe the retransmission timer is armed only if that count is above 0:
// no timer is left, the lost segment is never resent and the peer never
// sees the FIN. stack.Options.NoRACK (no probes) passed 400 of 400.
//
// It is opt-in (go test -run GvisorTailProbe -gvisorstall 300) because it
// fails until gVisor is fixed; with the buffers set before the handshake
// (coalescedPairBuf) the coalescer tests do not set it off.
func TestGvisorTailProbeStall(t *testing.T) {
	if *gvisorStall <= 0 {
		t.Skip("opt-in: -gvisorstall N")
	}
	until := time.Now().Add(5 * time.Minute)
	for i := range *gvisorStall {
		if time.Now().After(until) {
			t.Logf("no stall in %d attempts (5 min)", i)
			return
		}
		var msg string
		t.Run(fmt.Sprint(i), func(t *testing.T) { msg = tailProbeAttempt(t) })
		if msg != "" {
			t.Fatalf("attempt %d: %s", i, msg)
		}
	}
}

// tailProbeAttempt runs the CI test's steps once, with the buffers shrunk
// after the handshake; it describes a stall, "" when all arrived.
func tailProbeAttempt(t *testing.T) string {
	cli, srv := coalescedPair(t, 5190)
	for _, so := range []*socket.Socket{cli, srv} {
		if err := so.SetOptionInt(unix.SOL_SOCKET, unix.SO_RCVBUF, 4096); err != nil {
			t.Fatal(err)
		}
		if err := so.SetOptionInt(unix.SOL_SOCKET, unix.SO_SNDBUF, 8192); err != nil {
			t.Fatal(err)
		}
	}
	sent := fillUntilFull(t, cli)
	if err := cli.Shutdown(unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	srv.SetNonblock(true)
	buf := make([]byte, 64<<10)
	got := 0
	deadline := time.Now().Add(3 * time.Second)
	for {
		res, err := srv.Recv(buf, socket.RecvFlags{})
		switch {
		case errors.Is(err, unix.EAGAIN):
			if srv.Wait(socket.EventIn|socket.EventHUp, deadline) != nil {
				return fmt.Sprintf("peer got %d of %d bytes and no FIN in 3 s; coalescer holds %d; gVisor's sender: %s",
					got, len(sent), socket.SendBuffered(cli), socket.DescribeSender(cli))
			}
			continue
		case err != nil:
			t.Fatal(err)
		case res.EOF:
			if got != len(sent) {
				t.Fatalf("EOF after %d of %d bytes", got, len(sent))
			}
			return ""
		}
		got += res.N
	}
}
