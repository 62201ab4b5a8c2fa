package vlan_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif/link/vlan"
	"gonetif.dev/internal/lantest"
)

func mac(i byte) tcpip.LinkAddress { return tcpip.LinkAddress([]byte{2, 0, 0, 0, 0x10, i}) }

// logBuf collects log lines for assertions.
type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logBuf) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func (l *logBuf) waitFor(t *testing.T, sub string) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if l.has(sub) {
			return
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Fatalf("no log line with %q in %q", sub, l.lines)
}

func newSwitch(t *testing.T, opts vlan.Options) *vlan.Switch {
	t.Helper()
	sw, err := vlan.NewSwitch(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Close)
	return sw
}

func newPort(t *testing.T, sw *vlan.Switch, i byte) *vlan.Port {
	t.Helper()
	p, err := sw.NewPort(vlan.PortOptions{MAC: mac(i)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInProcessTCPAndUDP: three stacks (three simulated boards) on one
// switch; every pair talks TCP (byte-exact) and UDP, and once MACs are
// learned, unicast goes to one port only.
func TestInProcessTCPAndUDP(t *testing.T) {
	sw := newSwitch(t, vlan.Options{})
	a := lantest.Stack(t, "A", newPort(t, sw, 1), lantest.Addr(1))
	b := lantest.Stack(t, "B", newPort(t, sw, 2), lantest.Addr(2))
	c := lantest.Stack(t, "C", newPort(t, sw, 3), lantest.Addr(3))
	lantest.TCPEcho(t, a, b, lantest.Addr(2), 7001, 2<<20)
	lantest.TCPEcho(t, c, a, lantest.Addr(1), 7002, 256<<10)
	lantest.UDPEcho(t, b, c, lantest.Addr(3), 7003)
	lantest.UDPEcho(t, a, b, lantest.Addr(2), 7004)
	st := sw.Stats()
	if st.Ports != 3 || st.Forwarded < 1000 || st.Flooded == 0 {
		t.Fatalf("stats %+v: want 3 ports, most frames forwarded, ARP flooded", st)
	}
	if st.Flooded > st.Forwarded/10 {
		t.Errorf("stats %+v: too many floods, the switch did not learn", st)
	}
}

// TestUnicastGoesToOnePort checks the learning with raw frames.
func TestUnicastGoesToOnePort(t *testing.T) {
	sw := newSwitch(t, vlan.Options{})
	ports := []*vlan.Port{newPort(t, sw, 1), newPort(t, sw, 2), newPort(t, sw, 3)}
	// Nothing attached to the endpoints: frames arriving at a port count
	// as receive drops, which is what we read back.
	rx := func(i int) uint64 { return ports[i].Stats().RxDropped }
	frame := func(dst, src tcpip.LinkAddress) []byte {
		f := append([]byte(dst), src...)
		return append(f, 0x08, 0x00, 1, 2, 3, 4)
	}
	wait := func(want [3]uint64) {
		t.Helper()
		for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			if [3]uint64{rx(0), rx(1), rx(2)} == want {
				return
			}
		}
		t.Fatalf("frames at ports: %d %d %d, want %v", rx(0), rx(1), rx(2), want)
	}
	// Unknown destination: flooded to 2 and 3.
	if err := ports[0].WriteFrame(frame(mac(2), mac(1))); err != nil {
		t.Fatal(err)
	}
	wait([3]uint64{0, 1, 1})
	// 2 answers 1: 1 is known (learned from the first frame).
	_ = ports[1].WriteFrame(frame(mac(1), mac(2)))
	wait([3]uint64{1, 1, 1})
	// 1 to 2 again: 2 is known now, 3 sees nothing.
	_ = ports[0].WriteFrame(frame(mac(2), mac(1)))
	wait([3]uint64{1, 2, 1})
	// Broadcast from 3 reaches 1 and 2, never 3 itself.
	_ = ports[2].WriteFrame(frame(tcpip.LinkAddress("\xff\xff\xff\xff\xff\xff"), mac(3)))
	wait([3]uint64{2, 3, 1})
	// A port that left is forgotten: frames to its MAC are flooded again.
	ports[1].Close()
	_ = ports[0].WriteFrame(frame(mac(2), mac(1)))
	wait([3]uint64{2, 3, 2})
	// And it sends nothing more.
	if err := ports[1].WriteFrame(frame(mac(1), mac(2))); !errors.Is(err, vlan.ErrClosed) {
		t.Fatalf("frame through a closed port: %v, want ErrClosed", err)
	}
	time.Sleep(20 * time.Millisecond)
	wait([3]uint64{2, 3, 2})
}

func TestBadFramesInProcess(t *testing.T) {
	logs := &logBuf{}
	sw := newSwitch(t, vlan.Options{MTU: 1000, Logf: logs.logf})
	p1, p2 := newPort(t, sw, 1), newPort(t, sw, 2)
	cases := []struct {
		frame []byte
		errno unix.Errno
		log   string
	}{
		{[]byte{1, 2, 3}, unix.EINVAL, "shorter than an Ethernet header"},
		{append(append([]byte(mac(2)), 0x03, 0, 0, 0, 0, 1), 8, 0), unix.EINVAL, "multicast source"},
		{append(append([]byte(mac(2)), mac(1)...), make([]byte, 1003)...), unix.EMSGSIZE, "longer than 1014"},
	}
	for _, tc := range cases {
		err := p1.WriteFrame(tc.frame)
		var fe *vlan.FrameError
		if !errors.As(err, &fe) || !errors.Is(err, tc.errno) {
			t.Errorf("%d-byte frame: got %v, want a FrameError wrapping %v", len(tc.frame), err, tc.errno)
		}
	}
	logs.waitFor(t, "shorter than an Ethernet header")
	logs.waitFor(t, "longer than 1014")
	st := sw.Stats()
	if st.Malformed != 2 || st.Oversize != 1 || st.Flooded+st.Forwarded != 0 {
		t.Fatalf("stats %+v", st)
	}
	time.Sleep(50 * time.Millisecond)
	if got := p2.Stats().RxDropped + p2.Stats().RxFrames; got != 0 {
		t.Fatalf("a refused frame reached the other port (%d)", got)
	}
	// Port options are checked too.
	if _, err := sw.NewPort(vlan.PortOptions{MAC: mac(9), MTU: 1500}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("port MTU above the switch's: %v", err)
	}
	if _, err := sw.NewPort(vlan.PortOptions{MAC: "\x01"}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("short MAC: %v", err)
	}
	if _, err := vlan.NewSwitch(vlan.Options{MTU: 10}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("MTU 10: %v", err)
	}
}

// TestSlowPortDropsOnlyItsFrames: a port that is never drained loses
// frames at its full queue; the switch does not block.
func TestFullQueueDrops(t *testing.T) {
	logs := &logBuf{}
	sw := newSwitch(t, vlan.Options{QueueLen: 4, Logf: logs.logf})
	p1 := newPort(t, sw, 1)
	block := make(chan struct{})
	defer close(block)
	path := filepath.Join(t.TempDir(), "sw.sock")
	srv, err := vlan.Listen(sw, path)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// A peer that connects and never reads.
	c, err := net.Dial("unixpacket", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logs.waitFor(t, "joined")
	frame := append(append([]byte("\xff\xff\xff\xff\xff\xff"), mac(1)...), make([]byte, 1400)...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 5000; i++ {
			_ = p1.WriteFrame(frame)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("switch blocked on a peer that does not read")
	}
	if st := sw.Stats(); st.QueueFull == 0 {
		t.Fatalf("stats %+v: want drops at the full queue", st)
	}
	logs.waitFor(t, "queue full")
}

func listen(t *testing.T, sw *vlan.Switch) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sw.sock")
	srv, err := vlan.Listen(sw, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return path
}

func dial(t *testing.T, path string, i byte, logf func(string, ...any)) *vlan.Client {
	t.Helper()
	c, err := vlan.Dial(path, vlan.ClientOptions{MAC: mac(i), Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOverSocket: a stack in this process on an in-process port and two
// stacks on socket clients, all on one switch.
func TestOverSocket(t *testing.T) {
	sw := newSwitch(t, vlan.Options{})
	path := listen(t, sw)
	a := lantest.Stack(t, "A", dial(t, path, 1, nil), lantest.Addr(1))
	b := lantest.Stack(t, "B", dial(t, path, 2, nil), lantest.Addr(2))
	c := lantest.Stack(t, "C", newPort(t, sw, 3), lantest.Addr(3))
	lantest.TCPEcho(t, a, b, lantest.Addr(2), 7101, 2<<20)
	lantest.TCPEcho(t, c, a, lantest.Addr(1), 7102, 64<<10)
	lantest.UDPEcho(t, b, a, lantest.Addr(1), 7103)
	lantest.UDPEcho(t, a, c, lantest.Addr(3), 7104)
}

func TestBadFramesFromPeer(t *testing.T) {
	logs := &logBuf{}
	sw := newSwitch(t, vlan.Options{MTU: 1000, Logf: logs.logf})
	path := listen(t, sw)
	good := newPort(t, sw, 1)
	raw, err := net.Dial("unixpacket", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	logs.waitFor(t, "joined")
	for _, f := range [][]byte{
		{1, 2, 3, 4, 5},
		append(append([]byte(mac(1)), mac(2)...), make([]byte, 5000)...),
	} {
		if _, err := raw.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	logs.waitFor(t, "shorter than an Ethernet header")
	logs.waitFor(t, "longer than 1014")
	// The peer is still connected and a good frame still gets through.
	if _, err := raw.Write(append(append([]byte(mac(1)), mac(2)...), 8, 0, 9, 9)); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(2 * time.Second); good.Stats().RxDropped != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("good frame after bad ones not delivered: %+v, switch %+v", good.Stats(), sw.Stats())
		}
	}
	if st := sw.Stats(); st.Malformed != 1 || st.Oversize != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestPeerDisconnect: a peer that goes away is removed, and a client
// whose switch goes away reports it and fails sends cleanly.
func TestPeerDisconnect(t *testing.T) {
	logs := &logBuf{}
	sw := newSwitch(t, vlan.Options{Logf: logs.logf})
	path := listen(t, sw)
	c1 := dial(t, path, 1, nil)
	logs.waitFor(t, "joined")
	if n := sw.Stats().Ports; n != 1 {
		t.Fatalf("%d ports, want 1", n)
	}
	c1.Close()
	logs.waitFor(t, "left")
	if n := sw.Stats().Ports; n != 0 {
		t.Fatalf("%d ports after the peer left, want 0", n)
	}

	clientLogs := &logBuf{}
	sw2 := newSwitch(t, vlan.Options{})
	srv, err := vlan.Listen(sw2, filepath.Join(t.TempDir(), "b.sock"))
	if err != nil {
		t.Fatal(err)
	}
	c2 := dial(t, srv.Path(), 2, clientLogs.logf)
	defer c2.Close()
	srv.Close()
	clientLogs.waitFor(t, "went away")
	frame := append(append([]byte(mac(1)), mac(2)...), 8, 0, 1)
	if err := c2.WriteFrame(frame); !errors.Is(err, vlan.ErrSwitchGone) {
		t.Fatalf("send after the switch left: %v, want ErrSwitchGone", err)
	}
	if _, err := vlan.Dial(srv.Path(), vlan.ClientOptions{MAC: mac(3)}); err == nil {
		t.Fatal("Dial to a closed switch succeeded")
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	sw := newSwitch(t, vlan.Options{})
	path := filepath.Join(t.TempDir(), "sw.sock")
	// A bound socket nobody listens on is what a killed switch leaves.
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	srv, err := vlan.Listen(sw, path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer srv.Close()
	if _, err := vlan.Listen(sw, path); !errors.Is(err, unix.EADDRINUSE) {
		t.Fatalf("second switch on a live socket: %v, want EADDRINUSE", err)
	}
}

// TestNoGoroutineLeak: a LAN with in-process ports, a server, clients and
// traffic leaves no goroutine behind once everything is closed.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		sw, err := vlan.NewSwitch(vlan.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer sw.Close()
		path := filepath.Join(t.TempDir(), "sw.sock")
		srv, err := vlan.Listen(sw, path)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		p := newPort(t, sw, 1)
		defer p.Close()
		var clients []*vlan.Client
		for i := byte(2); i < 5; i++ {
			c := dial(t, path, i, nil)
			clients = append(clients, c)
			defer c.Close()
		}
		frame := append([]byte("\xff\xff\xff\xff\xff\xff"), mac(1)...)
		frame = append(frame, bytes.Repeat([]byte{8}, 100)...)
		for i := 0; i < 100; i++ {
			_ = p.WriteFrame(frame)
			_ = clients[i%3].WriteFrame(append(append([]byte(mac(1)), mac(byte(2+i%3))...), 8, 0))
		}
		time.Sleep(50 * time.Millisecond)
	}()
	lantest.NoLeak(t, before)
}

// TestCloseWhileAttached: closing an endpoint a stack still uses makes the
// stack remove the NIC, which closes the endpoint again; that must not
// deadlock.
func TestCloseWhileAttached(t *testing.T) {
	sw := newSwitch(t, vlan.Options{})
	path := listen(t, sw)
	c := dial(t, path, 1, nil)
	p := newPort(t, sw, 2)
	lantest.Stack(t, "A", c, lantest.Addr(1))
	lantest.Stack(t, "B", p, lantest.Addr(2))
	done := make(chan struct{})
	go func() {
		c.Close()
		p.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close of an attached endpoint hung")
	}
	// The server sees the client's hang-up asynchronously.
	for end := time.Now().Add(5 * time.Second); sw.Stats().Ports != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%d ports left", sw.Stats().Ports)
		}
	}
}

// TestSendThenCloseDelivers: a frame sent just before the device goes
// (an app that answers and exits) is already in the kernel, not lost in a
// queue.
func TestSendThenCloseDelivers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raw.sock")
	ln, err := net.Listen("unixpacket", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := dial(t, path, 1, nil)
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	frame := append(append([]byte(mac(2)), mac(1)...), 8, 0, 'l', 'a', 's', 't')
	for i := 0; i < 50; i++ {
		if err := c.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	for i := 0; i < 50; i++ {
		n, err := peer.Read(buf)
		if err != nil || !bytes.Equal(buf[:n], frame) {
			t.Fatalf("frame %d after Close: %q, %v", i, buf[:n], err)
		}
	}
}
