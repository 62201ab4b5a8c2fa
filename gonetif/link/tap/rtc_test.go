package tap_test

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gonetif.dev/gonetif/internal/netnstest"
	"gonetif.dev/gonetif/link/tap"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// callerRig is a TAP with caller reads on, a stack with UDP on it, a UDP
// socket of the stack on port 7000 and a kernel UDP socket in the
// namespace connected to it.
type callerRig struct {
	ns   *netnstest.NS
	ep   *tap.Endpoint
	s    *stack.Stack
	recv *gonet.UDPConn
	host *net.UDPConn

	received atomic.Uint32 // datagrams expect has read
}

func newCallerRig(t *testing.T) *callerRig {
	t.Helper()
	ns := netnstest.New(t)
	ns.AddTap(t, tapName, hostCIDR, -1)
	ep, err := tap.Open(tap.Options{Name: tapName, NetNS: ns.Path, CallerReads: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !ep.CallerReads() {
		t.Fatal("CallerReads option not in effect")
	}
	s := newStack(t, ep, udp.NewProtocol)
	t.Cleanup(func() { destroy(t, s) })
	waitPing(t, ns, stackIP)
	r := &callerRig{ns: ns, ep: ep, s: s}
	r.recv, err = gonet.DialUDP(s, &tcpip.FullAddress{NIC: 1, Addr: stackAddr, Port: 7000}, nil, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatalf("stack UDP socket: %v", err)
	}
	t.Cleanup(func() { r.recv.Close() })
	err = ns.Do(func() error {
		var err error
		r.host, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP(stackIP), Port: 7000})
		return err
	})
	if err != nil {
		t.Fatalf("host UDP socket: %v", err)
	}
	t.Cleanup(func() { r.host.Close() })
	return r
}

// send sends datagrams first..first+n-1, each carrying its number, never
// more than 64 ahead of what expect has received (the kernel drops what
// its TAP queue cannot hold; this test is about our side).
func (r *callerRig) send(t *testing.T, first, n uint32) {
	t.Helper()
	b := make([]byte, 64)
	deadline := time.Now().Add(30 * time.Second)
	for i := first; i < first+n; i++ {
		for i >= r.received.Load()+64 {
			if time.Now().After(deadline) {
				t.Errorf("host send %d: the receiver is stuck at %d", i, r.received.Load())
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
		binary.BigEndian.PutUint32(b, i)
		if _, err := r.host.Write(b); err != nil {
			t.Errorf("host send %d: %v", i, err)
			return
		}
	}
}

// expect reads n datagrams and checks that they are first..first+n-1 in
// order, each within limit.
func (r *callerRig) expect(t *testing.T, first, n uint32, limit time.Duration) {
	t.Helper()
	b := make([]byte, 128)
	for i := first; i < first+n; i++ {
		_ = r.recv.SetReadDeadline(time.Now().Add(limit))
		m, err := r.recv.Read(b)
		if err != nil {
			t.Fatalf("datagram %d not received: %v", i, err)
		}
		r.received.Store(i + 1)
		if got := binary.BigEndian.Uint32(b[:m]); got != i {
			out, _ := r.ns.Run("ip", "-s", "link", "show", tapName)
			t.Fatalf("datagram %d arrived where %d was due: frames lost or reordered "+
				"(stack: %d UDP datagrams dropped for a full receive buffer; link %+v; kernel:\n%s)",
				got, i, r.s.Stats().UDP.ReceiveBufferErrors.Value(), r.ep.Stats(), out)
		}
	}
}

// callers runs k goroutines doing what a blocked C caller does under
// GONETIF_TCP_RTC: begin a wait, poll the TAP, drain it; until stop is
// closed. With pauses, they all stop waiting for 6 ms of every 20, so
// that the reader comes back and yields again meanwhile. It returns the
// frames they delivered.
func callers(ep *tap.Endpoint, k int, pauses bool, stop chan struct{}) (delivered *atomic.Int64, done *sync.WaitGroup) {
	delivered, done = new(atomic.Int64), new(sync.WaitGroup)
	for range k {
		done.Add(1)
		go func() {
			defer done.Done()
			deadline := time.Now().Add(60 * time.Second)
			for time.Now().Before(deadline) {
				if pauses && time.Now().UnixMilli()%20 < 6 {
					time.Sleep(time.Millisecond) // all together, so the reader comes back
					continue
				}
				select {
				case <-stop:
					return
				default:
				}
				fd := ep.WaitFd()
				if fd < 0 {
					time.Sleep(time.Millisecond)
					continue
				}
				pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
				_, _ = unix.Poll(pfd, 2)
				delivered.Add(int64(ep.DrainInline()))
			}
		}()
	}
	return delivered, done
}

// Several callers and the reader goroutine take turns on one TAP: every
// frame arrives once and in order, and both callers and the reader
// delivered some.
func TestCallerReadsKeepOrder(t *testing.T) {
	netnstest.Require(t)
	r := newCallerRig(t)
	stop := make(chan struct{})
	delivered, done := callers(r.ep, 3, true, stop)
	const n = 5000
	go r.send(t, 0, n)
	r.expect(t, 0, n, 5*time.Second)
	close(stop)
	done.Wait()
	all := int64(r.ep.Stats().RxFrames)
	if delivered.Load() == 0 {
		t.Fatal("no frame was delivered by a caller: caller reads did not happen")
	}
	if delivered.Load() >= all {
		t.Fatalf("callers delivered all %d frames: the reader never took a turn", all)
	}
	t.Logf("callers delivered %d of %d frames", delivered.Load(), all)
}

// While callers wait, the reader stays away; once none has waited for a
// while it comes back and frames arrive with nobody waiting.
func TestCallerReadsReaderComesBack(t *testing.T) {
	netnstest.Require(t)
	r := newCallerRig(t)
	stop := make(chan struct{})
	_, done := callers(r.ep, 1, false, stop)
	var yielded atomic.Bool
	watching := make(chan struct{})
	go func() {
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && !yielded.Load(); {
			select {
			case <-watching:
				return
			default:
			}
			yielded.Store(r.ep.ReaderYielded())
			time.Sleep(50 * time.Microsecond)
		}
	}()
	go r.send(t, 0, 100)
	r.expect(t, 0, 100, 5*time.Second)
	close(watching)
	if !yielded.Load() {
		t.Error("the reader did not yield while a caller waited")
	}
	close(stop)
	done.Wait()
	if !netnstest.WaitFor(time.Second, time.Millisecond, func() bool { return !r.ep.ReaderYielded() }) {
		t.Fatal("the reader did not come back within 1 s of the last caller's wait")
	}
	go r.send(t, 100, 100)
	r.expect(t, 100, 100, 2*time.Second)
}

// Closing the endpoint while a caller polls its TAP: the caller's next
// WaitFd says "wait the ordinary way", DrainInline reads nothing, the
// stack goes down in time (destroy's bound) and the frames already
// delivered stay delivered.
func TestCallerReadsCloseWhileWaiting(t *testing.T) {
	netnstest.Require(t)
	r := newCallerRig(t)
	fd := r.ep.WaitFd()
	if fd < 0 {
		t.Fatal("WaitFd refused on an open endpoint")
	}
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		_, _ = unix.Poll(pfd, 3000)
	}()
	go r.send(t, 0, 10)
	r.expect(t, 0, 10, 5*time.Second)
	destroy(t, r.s)
	if got := r.ep.WaitFd(); got >= 0 {
		t.Errorf("WaitFd after Close = %d, want < 0", got)
	}
	if got := r.ep.DrainInline(); got != 0 {
		t.Errorf("DrainInline after Close delivered %d frames", got)
	}
	select {
	case <-polled:
	case <-time.After(5 * time.Second):
		t.Fatal("the caller's poll did not end")
	}
}
