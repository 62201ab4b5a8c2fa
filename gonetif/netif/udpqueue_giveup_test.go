package netif_test

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/socket"
)

// TestUDPQueueGivesUpAfterTheRoomWait: when the link's writes hang, a UDP
// sender that finds the queue full waits netif.UDPRoomWait for room and
// then the datagram is dropped as a full Linux device queue drops it:
// send succeeds (Linux reports ENOBUFS only with IP_RECVERR, which the
// second case sets on gVisor's endpoint), the interface counts the drop,
// the datagram no longer holds the socket's send buffer, and every
// datagram queued before it still leaves, in order, once the link moves.
// After that a lone datagram is written by its sender again (the queue's
// own count of UDP frames in it is back to zero).
func TestUDPQueueGivesUpAfterTheRoomWait(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 1 s give-up twice")
	}
	for _, c := range []struct {
		name    string
		recvErr bool
		want    error
	}{{"default", false, nil}, {"IP_RECVERR", true, unix.ENOBUFS}} {
		t.Run(c.name, func(t *testing.T) {
			// Every datagram after the first is taken for a stream, so
			// each is queued while the writer is stuck.
			defer netif.SetUDPStreamGap(netif.SetUDPStreamGap(time.Hour))
			m := newManager(t)
			const queueLen = 4
			m.TxQueue, m.UDPQueue = queueLen, true
			sink := &slowSink{}
			link := &stuckLink{LinkEndpoint: driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x00\x01", Transmit: sink.transmit}),
				writing: make(chan struct{}, 1), release: make(chan struct{})}
			_, peer := startedOn(t, m, "UG", 2, link)
			released := false
			defer func() {
				if !released {
					close(link.releaseChan())
				}
			}()
			so, err := socket.New(m.Stack(), unix.AF_INET, unix.SOCK_DGRAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer so.Release()
			if err := so.Connect(peer); err != nil {
				t.Fatal(err)
			}
			ep, _ := so.Endpoint()
			ep.SocketOptions().SetIPv4RecvError(c.recvErr)
			msg := make([]byte, 64)
			send := func(seq int) (time.Duration, error) {
				binary.BigEndian.PutUint32(msg, uint32(seq))
				t0 := time.Now()
				k, err := so.Send(msg, nil, socket.SendFlags{})
				if err == nil && k != len(msg) {
					t.Fatalf("send %d: %d bytes", seq, k)
				}
				return time.Since(t0), err
			}
			if _, err := send(0); err != nil { // written inline, before the link sticks
				t.Fatal(err)
			}
			link.stuck.Store(true)

			// The writer takes the first queued datagram and hangs in the
			// link; the queue then fills; the next sender waits, gives up.
			dropped := -1
			for seq := 1; seq <= 4*queueLen+8 && dropped < 0; seq++ {
				took, err := send(seq)
				if took >= netif.UDPRoomWait*9/10 {
					dropped = seq
					if err != c.want {
						t.Errorf("the send that gave up returned %v, want %v (as Linux)", err, c.want)
					}
					if took > netif.UDPRoomWait+4*time.Second {
						t.Errorf("the send that gave up took %v, want about %v", took, netif.UDPRoomWait)
					}
				} else if err != nil {
					t.Fatalf("send %d (queue not full yet): %v", seq, err)
				}
			}
			if dropped < 0 {
				t.Fatalf("no send waited for room: %d datagrams went into a %d-frame queue behind a stuck link", 4*queueLen+8, queueLen)
			}
			// The stack-wide NIC counter: NICInfo would wait for IPv6's
			// lock, held by an MLD report stuck in the link meanwhile.
			if got := m.Stack().Stats().NICs.TxPacketsDroppedNoBufferSpace.Value(); got != 1 {
				t.Errorf("the interface counted %d datagrams dropped for a full queue, want 1", got)
			}

			link.stuck.Store(false)
			close(link.releaseChan())
			released = true
			got := sink.waitFor(dropped)
			if len(got) != dropped {
				t.Fatalf("after the link moved the peer got %d datagrams, want %d (all but the dropped %d): %v", len(got), dropped, dropped, got)
			}
			for i, s := range got {
				if s != uint32(i) {
					t.Fatalf("datagram %d carried %d: want 0..%d in order, %d dropped", i, s, dropped-1, dropped)
				}
			}

			// Counted out of the queue: with the gap back to its default
			// and a pause, a lone datagram is written by its sender, so
			// it holds the sender while the link holds it.
			netif.SetUDPStreamGap(20 * time.Microsecond)
			time.Sleep(10 * time.Millisecond)
			link2Done := make(chan error, 1)
			link.rearm()
			released = false
			link.stuck.Store(true)
			go func() { _, err := send(1000); link2Done <- err }()
			select {
			case <-link.writing:
			case <-time.After(5 * time.Second):
				t.Fatal("the lone datagram reached no link")
			}
			select {
			case err := <-link2Done:
				t.Fatalf("a lone datagram after the give-up was queued (send returned %v while the link held it): the queue still counts UDP frames", err)
			case <-time.After(100 * time.Millisecond):
			}
			link.stuck.Store(false)
			close(link.releaseChan())
			released = true
			if err := <-link2Done; err != nil {
				t.Fatalf("lone send: %v", err)
			}
		})
	}
}
