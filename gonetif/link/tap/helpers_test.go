package tap_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonetif.dev/gonetif/internal/netnstest"
	"gonetif.dev/gonetif/link/tap"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Test topology: the kernel owns 10.77.0.1 on the TAP inside the namespace,
// the gVisor stack answers as 10.77.0.2 through the endpoint.
const (
	tapName  = "gt0"
	hostIP   = "10.77.0.1"
	hostCIDR = hostIP + "/24"
	stackIP  = "10.77.0.2"
)

var stackAddr = tcpip.AddrFrom4([4]byte{10, 77, 0, 2})
var hostAddr = tcpip.AddrFrom4([4]byte{10, 77, 0, 1})

// newStack builds a gVisor stack with ep as NIC 1 and stackIP on it (TCP
// and ICMP, and the extra transports given).
func newStack(tb testing.TB, ep stack.LinkEndpoint, extra ...stack.TransportProtocolFactory) *stack.Stack {
	tb.Helper()
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: append([]stack.TransportProtocolFactory{tcp.NewProtocol, icmp.NewProtocol4}, extra...),
	})
	buf := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4 << 10, Default: 4 << 20, Max: 8 << 20}
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &buf); err != nil {
		tb.Fatalf("receive buffer option: %v", err)
	}
	sbuf := tcpip.TCPSendBufferSizeRangeOption{Min: 4 << 10, Default: 1 << 20, Max: 8 << 20}
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &sbuf); err != nil {
		tb.Fatalf("send buffer option: %v", err)
	}
	sack := tcpip.TCPSACKEnabled(true)
	_ = s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	_ = s.SetTransportProtocolOption(tcp.ProtocolNumber, &moderate)
	if err := s.CreateNIC(1, ep); err != nil {
		tb.Fatalf("CreateNIC: %v", err)
	}
	if err := s.AddProtocolAddress(1, tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: stackAddr, PrefixLen: 24},
	}, stack.AddressProperties{}); err != nil {
		tb.Fatalf("AddProtocolAddress: %v", err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header4Subnet(), NIC: 1}})
	return s
}

func header4Subnet() tcpip.Subnet {
	sn, err := tcpip.NewSubnet(tcpip.AddrFrom4([4]byte{}), tcpip.MaskFromBytes([]byte{0, 0, 0, 0}))
	if err != nil {
		panic(err)
	}
	return sn
}

// destroy tears the stack down and waits (bounded) for its link endpoints.
func destroy(tb testing.TB, s *stack.Stack) {
	done := make(chan struct{})
	go func() { s.Destroy(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		tb.Errorf("stack.Destroy did not return within 10s:\n%s", strings.Join(stackGoroutines(), "\n\n"))
	}
}

type rig struct {
	ns *netnstest.NS
	ep *tap.Endpoint
	s  *stack.Stack
}

// newRig creates a namespace with a TAP and a gVisor stack on it, and waits
// until the kernel can ping the stack.
func newRig(tb testing.TB, plain bool) *rig {
	tb.Helper()
	ns := netnstest.New(tb)
	ns.AddTap(tb, tapName, hostCIDR, -1)
	r := &rig{ns: ns}
	r.open(tb, plain)
	return r
}

func (r *rig) open(tb testing.TB, plain bool) {
	tb.Helper()
	ep, err := tap.Open(tap.Options{Name: tapName, NetNS: r.ns.Path, Plain: plain})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	r.ep = ep
	r.s = newStack(tb, ep)
	s := r.s
	tb.Cleanup(func() { destroy(tb, s) })
	waitPing(tb, r.ns, stackIP)
}

func (r *rig) close(tb testing.TB) {
	destroy(tb, r.s)
}

// waitPing retries a single ping until the link is really up (the kernel
// drops packets until it has processed carrier-on), bounded to ~15 s.
func waitPing(tb testing.TB, ns *netnstest.NS, ip string) {
	tb.Helper()
	var out string
	for i := 0; i < 15; i++ {
		o, err := ns.Run("ping", "-c", "1", "-W", "1", ip)
		if err == nil {
			return
		}
		out = o
	}
	tb.Fatalf("no ping reply from %s after 15 tries:\n%s", ip, out)
}

// randomFile writes n random bytes to a temp file and returns its path and
// SHA-256.
func randomFile(tb testing.TB, n int) (string, []byte, string) {
	tb.Helper()
	data := make([]byte, n)
	if _, err := rand.Read(data); err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), "data")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return p, data, hex.EncodeToString(sum[:])
}

// dial connects the stack to port on the host, retrying while the listener
// starts (bounded).
func dial(tb testing.TB, s *stack.Stack, port uint16) *gonet.TCPConn {
	tb.Helper()
	var lastErr error
	for i := 0; i < 50; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := gonet.DialContextTCP(ctx, s, tcpip.FullAddress{NIC: 1, Addr: hostAddr, Port: port}, ipv4.ProtocolNumber)
		cancel()
		if err == nil {
			return c
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("dial %s:%d: %v", hostIP, port, lastErr)
	return nil
}

func listen(tb testing.TB, s *stack.Stack, port uint16) *gonet.TCPListener {
	tb.Helper()
	l, err := gonet.ListenTCP(s, tcpip.FullAddress{NIC: 1, Addr: stackAddr, Port: port}, ipv4.ProtocolNumber)
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// accept waits at most d for a connection.
func accept(tb testing.TB, l *gonet.TCPListener, d time.Duration) net.Conn {
	tb.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := l.Accept(); ch <- res{c, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			tb.Fatalf("accept: %v", r.err)
		}
		return r.c
	case <-time.After(d):
		l.Close()
		tb.Fatalf("no connection within %v", d)
	}
	return nil
}

// sendToHost streams data from the stack to a socat sink in the namespace
// and checks the SHA-256 the host computed.
func sendToHost(tb testing.TB, r *rig, port uint16, data []byte, want string) {
	tb.Helper()
	sendToHostIn(tb, r, port, data, want, len(data))
}

// sendToHostIn is sendToHost with one Write per chunk bytes.
func sendToHostIn(tb testing.TB, r *rig, port uint16, data []byte, want string, chunk int) {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "sum")
	cmd := r.ns.Start(tb, "sh", "-c", fmt.Sprintf(
		"socat -u TCP4-LISTEN:%d,reuseaddr STDOUT | sha256sum > %s", port, out))
	c := dial(tb, r.s, port)
	_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	for rest := data; len(rest) > 0; {
		n := min(chunk, len(rest))
		if _, err := c.Write(rest[:n]); err != nil {
			tb.Fatalf("write: %v", err)
		}
		rest = rest[n:]
	}
	if err := c.Close(); err != nil {
		tb.Fatalf("close: %v", err)
	}
	if o, ok := r.ns.Wait(cmd, 30*time.Second); !ok {
		tb.Fatalf("sink did not finish:\n%s", o)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	if f := strings.Fields(string(got)); len(f) == 0 || f[0] != want {
		tb.Fatalf("host received data with sha256 %q, want %s", got, want)
	}
}

// recvFromHost has socat in the namespace send file to the stack and checks
// what arrived.
func recvFromHost(tb testing.TB, r *rig, port uint16, file, want string) int64 {
	tb.Helper()
	l := listen(tb, r.s, port)
	r.ns.Start(tb, "socat", "-u", "OPEN:"+file, fmt.Sprintf("TCP4:%s:%d", stackIP, port))
	c := accept(tb, l, 15*time.Second)
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	h := sha256.New()
	n, err := io.Copy(h, c)
	if err != nil {
		tb.Fatalf("read after %d bytes: %v", n, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		tb.Fatalf("stack received %d bytes with sha256 %s, want %s", n, got, want)
	}
	return n
}
