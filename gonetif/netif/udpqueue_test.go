package netif_test

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/socket"
)

// slowSink is an in-memory peer behind a link slower than the sender: it
// takes each frame after a pause and records the sequence number of each
// UDP datagram it got.
type slowSink struct {
	pause time.Duration
	mu    sync.Mutex
	seqs  []uint32
}

func (s *slowSink) transmit(frame []byte) error {
	if s.pause > 0 {
		// Busy, as a writev would be; a sleep would round up to 50+ µs.
		for t0 := time.Now(); time.Since(t0) < s.pause; {
		}
	}
	eth := header.Ethernet(frame)
	if len(frame) < header.EthernetMinimumSize || eth.Type() != header.IPv4ProtocolNumber {
		return nil
	}
	ip := header.IPv4(frame[header.EthernetMinimumSize:])
	if !ip.IsValid(len(ip)) || ip.TransportProtocol() != header.UDPProtocolNumber {
		return nil
	}
	payload := header.UDP(ip.Payload()).Payload()
	if len(payload) < 4 {
		return nil
	}
	s.mu.Lock()
	s.seqs = append(s.seqs, binary.BigEndian.Uint32(payload))
	s.mu.Unlock()
	return nil
}

func (s *slowSink) got() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.seqs...)
}

// waitFor polls until the sink holds n datagrams or a second passes.
func (s *slowSink) waitFor(n int) []uint32 {
	for deadline := time.Now().Add(time.Second); ; time.Sleep(time.Millisecond) {
		if got := s.got(); len(got) >= n || time.Now().After(deadline) {
			return got
		}
	}
}

// udpQueueRig is an interface with both queue switches on (a short TCP/UDP
// queue) over a slowSink, and a UDP socket connected to a peer behind it.
func udpQueueRig(t *testing.T, txQueue int, pause time.Duration) (*socket.Socket, *slowSink) {
	t.Helper()
	m := newManager(t)
	m.TxQueue, m.UDPQueue = txQueue, true
	sink := &slowSink{pause: pause}
	link := driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x00\x01", Transmit: sink.transmit})
	_, peer := startedOn(t, m, "UQ", 1, link)
	so, err := socket.New(m.Stack(), unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = so.Release() })
	if err := so.Connect(peer); err != nil {
		t.Fatal(err)
	}
	return so, sink
}

func checkInOrder(t *testing.T, got []uint32, want int) {
	t.Helper()
	if len(got) != want {
		t.Fatalf("the peer got %d of %d datagrams", len(got), want)
	}
	for i, s := range got {
		if s != uint32(i) {
			t.Fatalf("datagram %d carried sequence number %d: lost or reordered", i, s)
		}
	}
}

// TestUDPQueueBlockingSenderLosesNothing: a blocking socket sending a
// burst far larger than the queue, through a link slower than the
// sender, waits for room as Linux's socket waits on its send buffer; every
// datagram arrives, in order. (Before: datagrams that found the queue full
// were dropped, and send still reported success.)
func TestUDPQueueBlockingSenderLosesNothing(t *testing.T) {
	const burst = 3000
	so, sink := udpQueueRig(t, 16, 5*time.Microsecond)
	msg := make([]byte, 64)
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < burst; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("sent only %d of %d in 20 s", i, burst)
		}
		binary.BigEndian.PutUint32(msg, uint32(i))
		if k, err := so.Send(msg, nil, socket.SendFlags{}); err != nil || k != len(msg) {
			t.Fatalf("send %d: %d, %v", i, k, err)
		}
	}
	checkInOrder(t, sink.waitFor(burst), burst)
}

// TestUDPQueueNonblockingSenderLosesNothing: a non-blocking sender never
// loses a datagram send accepted. With a small send buffer it gets EAGAIN
// once the datagrams it has in flight fill the buffer (queued frames stay
// charged to the socket, as Linux charges an skb until the device is done
// with it), waits for writability and goes on. With the default buffer a
// short queue fills first: the sender waits for the writer to make room
// (the writer's pace, as the write without the queue would cost), where
// before the datagram was dropped and send reported success.
func TestUDPQueueNonblockingSenderLosesNothing(t *testing.T) {
	for _, c := range []struct {
		name       string
		txQueue    int
		sndBuf     int // 0: the default
		wantEAGAIN bool
	}{
		{"small send buffer", 256, 2048, true},
		{"short queue", 16, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			const burst = 3000
			so, sink := udpQueueRig(t, c.txQueue, 5*time.Microsecond)
			if c.sndBuf > 0 {
				if err := so.SetOptionInt(unix.SOL_SOCKET, unix.SO_SNDBUF, c.sndBuf); err != nil {
					t.Fatal(err)
				}
			}
			so.SetNonblock(true)
			msg := make([]byte, 64)
			accepted, eagain := 0, 0
			deadline := time.Now().Add(20 * time.Second)
			// Queued only while the sender streams (< 20 µs apart): a
			// preempted sender may need more than one burst to fill its buffer.
			more := func() bool { return c.wantEAGAIN && !raceEnabled && eagain == 0 && accepted < 5*burst }
			for accepted < burst || more() {
				if time.Now().After(deadline) {
					t.Fatalf("sent only %d of %d in 20 s", accepted, burst)
				}
				binary.BigEndian.PutUint32(msg, uint32(accepted))
				k, err := so.Send(msg, nil, socket.SendFlags{})
				if err == unix.EAGAIN {
					eagain++
					if err := so.Wait(waiter.WritableEvents, time.Now().Add(time.Second)); err != nil {
						t.Fatalf("after EAGAIN at %d: never writable: %v", accepted, err)
					}
					continue
				}
				if err != nil || k != len(msg) {
					t.Fatalf("send %d: %d, %v", accepted, k, err)
				}
				accepted++
			}
			if c.wantEAGAIN && !raceEnabled && eagain == 0 {
				// With the race detector the sender is too slow to stream.
				t.Errorf("no EAGAIN in %d datagrams through a slow link: the send buffer did not push back", accepted)
			}
			checkInOrder(t, sink.waitFor(accepted), accepted)
			t.Logf("%d EAGAIN in %d datagrams", eagain, accepted)
		})
	}
}
