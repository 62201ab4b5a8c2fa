package tap

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// closeInDelivery is a dispatcher that, for the first frame, starts Close
// on another goroutine, gives it time to wait for the endpoint's lock,
// and then writes a frame, as inline processing writes an ACK.
type closeInDelivery struct {
	e       *Endpoint
	written chan tcpip.Error
	closed  chan struct{}
}

func (d *closeInDelivery) DeliverNetworkPacket(tcpip.NetworkProtocolNumber, *stack.PacketBuffer) {
	go func() { d.e.Close(); close(d.closed) }()
	for end := time.Now().Add(time.Second); !d.e.closing.Load() && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // Close now waits for mu, if anyone holds it
	var pkts stack.PacketBufferList
	src, dst := tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), tcpip.AddrFrom4([4]byte{10, 0, 0, 1})
	pkts.PushBack(udpTestPacket(peerMAC, src, dst, 5000, 6000, 1, []byte("ack")))
	_, err := d.e.WritePackets(pkts)
	pkts.Reset()
	d.written <- err
}
func (d *closeInDelivery) DeliverLinkPacket(tcpip.NetworkProtocolNumber, *stack.PacketBuffer) {}

// TestCallerReadsCloseWhileDraining: a caller's drain must not hold the
// endpoint's lock while it delivers. Delivery may write (inline
// processing sends the ACK), which takes the lock shared again; a Close
// waiting for it in between would block that write and itself for ever
// (the first version did: this test hung).
func TestCallerReadsCloseWhileDraining(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	e := &Endpoint{fd: fds[0], evfd: evfd, netpoll: true}
	mac := DefaultMAC
	e.addr.Store(&mac)
	e.txPool.New = func() any { return &txScratch{} }
	e.cr.back = make(chan struct{}, 1)
	if !e.SetCallerReads(true) {
		t.Fatal("caller reads refused")
	}
	d := &closeInDelivery{e: e, written: make(chan tcpip.Error, 1), closed: make(chan struct{})}
	var nd stack.NetworkDispatcher = d
	e.dispatcher.Store(&nd)
	if _, err := unix.Write(fds[1], tcpFrame(DefaultMAC, 10)); err != nil {
		t.Fatal(err)
	}
	drained := make(chan int, 1)
	go func() { drained <- e.DrainInline() }()
	select {
	case n := <-drained:
		if n != 1 {
			t.Errorf("DrainInline delivered %d frames, want 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("DrainInline, the write in its delivery and Close are deadlocked")
	}
	<-d.written // refused or not: the endpoint is closing
	select {
	case <-d.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not finish")
	}
}
