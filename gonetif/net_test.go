package gonetif_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/internal/dnstest"
	"gonetif.dev/gonetif/internal/testnet"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// serveDNS answers A queries on st for names in zone (one query per
// datagram) until pc is closed.
func serveDNS(t *testing.T, st *gonetif.Stack, zone map[string]netip.Addr) net.PacketConn {
	t.Helper()
	pc, err := st.ListenPacket("udp4", ":53")
	if err != nil {
		t.Fatal(err)
	}
	go dnstest.Serve(pc, func(name string) (netip.Addr, bool) {
		addr, ok := zone[name]
		return addr, ok
	})
	return pc
}

// A name resolves through the stack's own resolver, and an http.Client
// reaches the server by that name.
func TestHTTPByNameThroughResolver(t *testing.T) {
	n := testnet.New(t)
	dnsConn := serveDNS(t, n.B, map[string]netip.Addr{"server.test": testnet.AddrB})
	defer dnsConn.Close()
	if err := n.A.Netifs.SetDNS(0, testnet.AddrB); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	hosts, err := n.A.LookupHost(ctx, "server.test")
	if err != nil || len(hosts) != 1 || hosts[0] != testnet.AddrB.String() {
		t.Fatalf("LookupHost = %v, %v", hosts, err)
	}
	ips, err := n.A.LookupIP(ctx, "ip4", "server.test")
	if err != nil || len(ips) != 1 || !ips[0].Equal(net.IP(testnet.AddrB.AsSlice())) {
		t.Fatalf("LookupIP = %v, %v", ips, err)
	}
	if _, err := n.A.LookupIP(ctx, "ip6", "server.test"); err == nil {
		t.Fatal("LookupIP ip6 found an address the zone does not have")
	}
	_, err = n.A.LookupHost(ctx, "missing.test")
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound {
		t.Fatalf("missing name: %v, want a net.DNSError with IsNotFound", err)
	}

	ln, err := n.B.Listen("tcp", ":8080")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "by name "+r.Host)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	tr := &http.Transport{DialContext: n.A.DialContext}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://server.test:8080/", nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "by name server.test:8080" {
		t.Fatalf("body %q", body)
	}
}

func TestNetworksAndAddresses(t *testing.T) {
	n := testnet.New(t)
	for _, tc := range []struct{ network, address string }{
		{"tcp", "10.7.0.2"},        // no port
		{"tcp", "10.7.0.2:99999"},  // bad port
		{"tcp", "10.7.0.2:nosuch"}, // unknown service
		{"tcp6", "10.7.0.2:80"},    // wrong family
		{"ip", "10.7.0.2:80"},      // not a dial network
		{"tcp", ":80"},             // no host to dial
	} {
		if c, err := n.A.Dial(tc.network, tc.address); err == nil {
			c.Close()
			t.Errorf("Dial(%q, %q) succeeded", tc.network, tc.address)
		} else if _, ok := err.(*net.OpError); !ok {
			t.Errorf("Dial(%q, %q): %T, want *net.OpError", tc.network, tc.address, err)
		}
	}
	if _, err := n.B.Listen("udp", ":80"); err == nil {
		t.Error("Listen(udp) succeeded")
	}
	if _, err := n.B.ListenPacket("tcp", ":80"); err == nil {
		t.Error("ListenPacket(tcp) succeeded")
	}
	if _, err := n.B.Listen("tcp", "server.test:80"); err == nil {
		t.Error("Listen on a name succeeded")
	}

	// Port 0 picks a port; "tcp" on an empty host takes IPv4 peers too.
	ln, err := n.B.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if port == 0 {
		t.Fatal("no port picked")
	}
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("x"))
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := n.A.DialContext(ctx, "tcp4", fmt.Sprintf("10.7.0.2:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "x" {
		t.Fatalf("read %q", b)
	}

	// A cancelled context stops a dial to a silent address.
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	start := time.Now()
	if _, err := n.A.DialContext(short, "tcp", "10.7.0.99:80"); err == nil {
		t.Fatal("dial to nobody succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancelled dial took %v", d)
	}
}

// HTTP, Dial, Listen and ListenPacket leave no goroutine behind once the
// stacks are closed.
func TestNetAPINoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		t.Run("round", func(t *testing.T) {
			n := testnet.New(t)
			ln, err := n.B.Listen("tcp", ":80")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "ok")
			})}
			go srv.Serve(ln)
			tr := &http.Transport{DialContext: n.A.DialContext}
			for j := 0; j < 5; j++ {
				resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("http://10.7.0.2/")
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			tr.CloseIdleConnections()
			srv.Close()
			pc, err := n.B.ListenPacket("udp", ":7")
			if err != nil {
				t.Fatal(err)
			}
			pc.Close()
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
