package capture_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonetif.dev/gonetif/internal/netnstest"
	"gonetif.dev/gonetif/link/capture"
	"gonetif.dev/gonetif/link/tap"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

func addr(i byte) tcpip.Address { return tcpip.AddrFrom4([4]byte{10, 78, 0, i}) }

func newStack(t *testing.T, ep stack.LinkEndpoint, i byte) *stack.Stack {
	t.Helper()
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, icmp.NewProtocol4},
	})
	if err := s.CreateNIC(1, ep); err != nil {
		t.Fatal(err)
	}
	if err := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr(i), PrefixLen: 24}}, stack.AddressProperties{}); err != nil {
		t.Fatal(err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: 1}})
	return s
}

type record struct {
	origLen int
	data    []byte
}

// readPcap parses a nanosecond little-endian pcap as written by capture.
func readPcap(t *testing.T, b []byte) (linkType uint32, recs []record) {
	t.Helper()
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b23c4d {
		t.Fatalf("not a nanosecond pcap: % x", b[:min(len(b), 24)])
	}
	linkType = binary.LittleEndian.Uint32(b[20:])
	for b = b[24:]; len(b) > 0; {
		if len(b) < 16 {
			t.Fatalf("truncated record header")
		}
		incl := int(binary.LittleEndian.Uint32(b[8:]))
		orig := int(binary.LittleEndian.Uint32(b[12:]))
		if len(b) < 16+incl {
			t.Fatalf("truncated record")
		}
		recs = append(recs, record{orig, b[16 : 16+incl]})
		b = b[16+incl:]
	}
	return linkType, recs
}

// TestCapturePipe: TCP between two stacks over an Ethernet pipe; the
// capture holds ARP, the SYN, the SYN-ACK and the payload. Unprivileged.
func TestCapturePipe(t *testing.T) {
	a, b := pipe.New("\x02\x00\x00\x00\x00\x01", "\x02\x00\x00\x00\x00\x02", 1514)
	path := filepath.Join(t.TempDir(), "pipe.pcap")
	ca, closer, err := capture.New(ethernet.New(a), path, 0)
	if err != nil {
		t.Fatal(err)
	}
	sa := newStack(t, ca, 1)
	sb := newStack(t, ethernet.New(b), 2)
	defer sb.Destroy()

	l, err := gonet.ListenTCP(sb, tcpip.FullAddress{NIC: 1, Addr: addr(2), Port: 80}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := gonet.DialContextTCP(ctx, sa, tcpip.FullAddress{NIC: 1, Addr: addr(2), Port: 80}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte("hello through the capture layer")
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	c.Close()
	sa.Destroy() // closes the capture
	if err := closer.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lt, recs := readPcap(t, raw)
	if lt != 1 {
		t.Fatalf("link type %d, want Ethernet (1)", lt)
	}
	var arpSeen, syn, synAck, data bool
	for _, r := range recs {
		eth := header.Ethernet(r.data)
		switch eth.Type() {
		case header.ARPProtocolNumber:
			arpSeen = true
		case header.IPv4ProtocolNumber:
			ip := header.IPv4(r.data[header.EthernetMinimumSize:])
			if ip.TransportProtocol() != header.TCPProtocolNumber {
				continue
			}
			tc := header.TCP(ip.Payload())
			f := tc.Flags()
			syn = syn || f == header.TCPFlagSyn
			synAck = synAck || f == header.TCPFlagSyn|header.TCPFlagAck
			data = data || bytes.Contains(tc.Payload(), payload)
		}
	}
	if !arpSeen || !syn || !synAck || !data {
		t.Fatalf("%d frames; arp=%t syn=%t syn-ack=%t data=%t", len(recs), arpSeen, syn, synAck, data)
	}
	if _, err := exec.LookPath("tshark"); err == nil {
		out := tshark(t, path, "tcp.flags.syn==1")
		if n := len(strings.Fields(out)); n < 2 {
			t.Fatalf("tshark sees %d SYN frames:\n%s", n, out)
		}
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n--; w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestWriteErrorStopsCapture: a failing writer stops the capture, never
// the traffic.
func TestWriteErrorStopsCapture(t *testing.T) {
	a, b := pipe.New("\x02\x00\x00\x00\x00\x01", "\x02\x00\x00\x00\x00\x02", 1514)
	ca, err := capture.NewWriter(ethernet.New(a), &failWriter{n: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	sa := newStack(t, ca, 1)
	sb := newStack(t, ethernet.New(b), 2)
	defer sa.Destroy()
	defer sb.Destroy()
	l, err := gonet.ListenTCP(sb, tcpip.FullAddress{NIC: 1, Addr: addr(2), Port: 81}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := gonet.DialContextTCP(ctx, sa, tcpip.FullAddress{NIC: 1, Addr: addr(2), Port: 81}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatalf("traffic broken by a failing capture: %v", err)
	}
	c.Close()
	if err := ca.Flush(); err == nil || ca.Err() == nil {
		t.Fatalf("Flush = %v, Err = %v; want the write error", err, ca.Err())
	}
}

func tshark(t *testing.T, path, filter string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tshark", "-r", path, "-Y", filter, "-T", "fields", "-e", "frame.number")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s -Y %q: %v\n%s", path, filter, err, stderr.String())
	}
	return string(out)
}

// TestCaptureTAP: ping and a TCP transfer between the kernel and a stack on
// a real TAP (offload mode, so GSO frames are in the file); tshark must see
// the echo request and reply and the handshake.
func TestCaptureTAP(t *testing.T) {
	ns := netnstest.New(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	ns.AddTap(t, "gc0", "10.78.0.1/24", -1)
	ep, err := tap.Open(tap.Options{Name: "gc0", NetNS: ns.Path})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tap.pcap")
	ce, closer, err := capture.New(ep, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	s := newStack(t, ce, 2)
	defer s.Destroy()

	var pingOut string
	if !netnstest.WaitFor(15*time.Second, 0, func() bool {
		o, err := ns.Run("ping", "-c", "1", "-W", "1", "10.78.0.2")
		pingOut = o
		return err == nil
	}) {
		t.Fatalf("no ping reply:\n%s", pingOut)
	}
	l, err := gonet.ListenTCP(s, tcpip.FullAddress{NIC: 1, Addr: addr(2), Port: 90}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- -1
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		got <- n
	}()
	const size = 4 << 20
	ns.Exec(t, "sh", "-c", fmt.Sprintf("head -c %d /dev/zero | socat -u STDIN TCP4:10.78.0.2:90", size))
	select {
	case n := <-got:
		if n != size {
			t.Fatalf("received %d bytes, want %d", n, size)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("transfer did not finish")
	}
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}

	checks := []struct{ what, filter string }{
		{"ICMP echo request", "icmp.type==8"},
		{"ICMP echo reply", "icmp.type==0"},
		{"SYN", "tcp.flags.syn==1 && tcp.flags.ack==0"},
		{"SYN-ACK", "tcp.flags.syn==1 && tcp.flags.ack==1"},
		{"ARP", "arp"},
		{"GSO frame from the kernel", "frame.len > 1514"},
	}
	for _, c := range checks {
		if strings.TrimSpace(tshark(t, path, c.filter)) == "" {
			t.Errorf("tshark finds no %s (%s) in the capture", c.what, c.filter)
		}
	}
}
