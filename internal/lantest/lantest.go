// Package lantest has helpers for tests that put gonetif stacks on a
// link and check traffic between them: a stack on any link endpoint, a
// byte-exact TCP echo, a UDP echo, a TCP echo on the host's loopback, a
// bulk-send benchmark, and a goroutine leak check.
package lantest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

// Mask is the /24 every test network uses.
var Mask = netip.MustParseAddr("255.255.255.0")

// Addr returns 10.8.0.i.
func Addr(i byte) netip.Addr { return netip.AddrFrom4([4]byte{10, 8, 0, i}) }

// Stack makes a stack with one static interface on link; t.Cleanup closes it.
func Stack(t testing.TB, key string, link gvstack.LinkEndpoint, addr netip.Addr) *gonetif.Stack {
	t.Helper()
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddInterface(netif.Config{
		Key: key, Desc: key, Flags: netif.FlagAutoUp, RoutePrio: 100,
		IPInfo: netif.IPInfo{IP: addr, Netmask: Mask},
	}, link); err != nil {
		s.Close()
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// DHCPStack makes a stack whose one interface on link takes its address by
// DHCP, and waits up to 10 s for the lease; t.Cleanup closes it.
func DHCPStack(t testing.TB, key string, link gvstack.LinkEndpoint) (*gonetif.Stack, netip.Addr) {
	t.Helper()
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		link.Close()
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	nif, err := s.AddInterface(netif.Config{
		Key: key, Desc: key, Flags: netif.FlagAutoUp | netif.FlagDHCPClient, RoutePrio: 100,
		MAC: net.HardwareAddr(link.LinkAddress()),
	}, link)
	if err != nil {
		t.Fatal(err)
	}
	nif.Connected() // the link is up: DHCP starts
	for end := time.Now().Add(10 * time.Second); !nif.IPInfo().HasIP(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: no DHCP lease in 10 s", key)
		}
	}
	return s, nif.IPInfo().IP
}

// TCPEcho runs an echo server on server at to:port, sends size random
// bytes from client and checks that exactly those bytes come back.
func TCPEcho(t testing.TB, client, server *gonetif.Stack, to netip.Addr, port uint16, size int) {
	t.Helper()
	defer serveOne(t, server, port, func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		_, _ = io.Copy(c, c)
	})()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.DialTCP(ctx, netip.AddrPortFrom(to, port))
	if err != nil {
		t.Fatalf("dial %v:%d: %v", to, port, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	payload := make([]byte, size)
	_, _ = rand.Read(payload)
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		if err == nil {
			err = c.CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read echo: %v (after %d bytes)", err, len(got))
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("TCP echo: got %d bytes back, want the %d sent, byte for byte", len(got), len(payload))
	}
}

// UDPEcho runs a one-datagram echo on server at to:port and checks that
// the client's datagram comes back unchanged.
func UDPEcho(t testing.TB, client, server *gonetif.Stack, to netip.Addr, port uint16) {
	t.Helper()
	srv, err := server.ListenUDP(netip.AddrPortFrom(to, port))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 2048)
		_ = srv.SetDeadline(time.Now().Add(10 * time.Second))
		n, from, err := srv.ReadFrom(buf)
		if err == nil {
			_, _ = srv.WriteTo(buf[:n], from)
		}
	}()
	c, err := client.DialUDP(netip.AddrPortFrom(to, port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte(fmt.Sprintf("datagram to %v:%d", to, port))
	reply := make([]byte, 2048)
	// The first datagram can wait on ARP; resend a few times, bounded.
	for try := 0; try < 20; try++ {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		n, err := c.Read(reply)
		if err == nil {
			if !bytes.Equal(reply[:n], msg) {
				t.Fatalf("UDP echo: got %q, want %q", reply[:n], msg)
			}
			return
		}
	}
	t.Fatalf("UDP echo from %v:%d: no reply in 20 tries", to, port)
}

// HostEcho serves TCP echo on the host's loopback (a kernel socket, what a
// user-mode gateway reaches as .2) until the test ends; each connection is
// echoed until the client closes it.
func HostEcho(t testing.TB) *net.TCPListener {
	t.Helper()
	l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return l
}

// BulkSend benchmarks one-way bulk TCP from a stack on la to a stack on
// lb (addresses Addr(1), Addr(2)), 1 MiB per write, into a receiver that
// discards; the timer is stopped when it returns.
func BulkSend(b *testing.B, la, lb gvstack.LinkEndpoint, port uint16) {
	b.Helper()
	a := Stack(b, "A", la, Addr(1))
	s := Stack(b, "B", lb, Addr(2))
	defer serveOne(b, s, port, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := a.DialTCP(ctx, netip.AddrPortFrom(Addr(2), port))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Minute))
	for b.Loop() {
		if _, err := c.Write(buf); err != nil {
			b.Fatalf("write: %v", err)
		}
	}
	b.StopTimer()
}

// serveOne listens on s at port, hands the first connection to serve and
// closes it after; the returned function closes the listener.
func serveOne(t testing.TB, s *gonetif.Stack, port uint16, serve func(net.Conn)) func() {
	t.Helper()
	ln, err := s.ListenTCP(netip.AddrPortFrom(netip.IPv4Unspecified(), port))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		serve(c)
	}()
	return func() { ln.Close() }
}

// NoLeak fails t if, within 5 s, the goroutine count does not come back
// to at most before.
func NoLeak(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left, %d before:\n%s", n, before, trim(string(buf)))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func trim(s string) string {
	if len(s) > 8000 {
		return s[:8000] + "\n" + strings.Repeat(".", 3)
	}
	return s
}
