package socket_test

import (
	"flag"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

var (
	memConns   = flag.Int("memconns", 2000, "connections TestMemoryPerConnection holds open")
	memProfile = flag.String("memconnprofile", "", "write a heap profile with the connections open to this file")
)

// openConns opens n TCP connections from A to port on B through
// descriptor tables: non-blocking connects, accepting as they arrive so
// the backlog never overflows, all by deadline.
func openConns(t *testing.T, net *testnet.Net, ta, tb *socket.Table, port uint16, n, backlog int, deadline time.Time) (clients, servers []int) {
	t.Helper()
	ln := mustSocket(t, net, true, unix.SOCK_STREAM)
	if err := ln.Bind(addr(ipB, port)); err != nil {
		t.Fatal(err)
	}
	if err := ln.Listen(backlog); err != nil {
		t.Fatal(err)
	}
	accept := func() bool {
		c, _, err := ln.Accept()
		if err != nil {
			return false
		}
		c.SetNonblock(true)
		sfd, err := tb.Add(c)
		if err != nil {
			t.Fatalf("add server %d: %v", len(servers), err)
		}
		servers = append(servers, sfd)
		return true
	}
	for len(clients) < n {
		if time.Now().After(deadline) {
			t.Fatalf("opened %d of %d connections in time", len(clients), n)
		}
		so, err := socket.New(net.A.Gvisor(), unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		fd, err := ta.Add(so)
		if err != nil {
			t.Fatalf("add client %d: %v", len(clients), err)
		}
		clients = append(clients, fd)
		if err := so.Connect(addr(ipB, port)); err != unix.EINPROGRESS {
			t.Fatalf("connect %d: %v", len(clients), err)
		}
		for accept() {
		}
	}
	for len(servers) < n {
		if time.Now().After(deadline) {
			t.Fatalf("accepted %d of %d in time", len(servers), n)
		}
		if !accept() {
			ln.Wait(waiter.ReadableEvents, time.Now().Add(100*time.Millisecond))
		}
	}
	return clients, servers
}

// openEchoed opens n connections (openConns) and checks each with a
// 1-byte echo, as the bench's RSS row does.
func openEchoed(t *testing.T, net *testnet.Net, ta, tb *socket.Table, n int, deadline time.Time) (clients, servers []int) {
	t.Helper()
	clients, servers = openConns(t, net, ta, tb, 6100, n, 4096, deadline)
	one := func(so *socket.Socket, b []byte, what string) {
		for {
			r, err := so.Recv(b, socket.RecvFlags{})
			if err == unix.EAGAIN {
				if so.Wait(waiter.ReadableEvents, deadline) != nil {
					t.Fatalf("%s receive timed out", what)
				}
				continue
			}
			if err != nil || r.N != 1 {
				t.Fatalf("%s recv: %d %v", what, r.N, err)
			}
			return
		}
	}
	b := []byte{42}
	for _, fd := range clients {
		so, _ := ta.Get(fd)
		if so.ConnectResult() != nil {
			so.Wait(waiter.WritableEvents, deadline)
			if err := so.ConnectResult(); err != nil {
				t.Fatalf("connect result: %v", err)
			}
		}
		if k, err := so.Send(b, nil, socket.SendFlags{}); err != nil || k != 1 {
			t.Fatalf("send: %d %v", k, err)
		}
	}
	for _, fd := range servers {
		so, _ := tb.Get(fd)
		one(so, b, "server")
		if k, err := so.Send(b, nil, socket.SendFlags{}); err != nil || k != 1 {
			t.Fatalf("echo: %d %v", k, err)
		}
	}
	for _, fd := range clients {
		so, _ := ta.Get(fd)
		one(so, b, "client")
	}
	return clients, servers
}

func vmRSSKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb
		}
	}
	return -1
}

// TestMemoryPerConnection bounds the Go heap an idle, established,
// echoed TCP connection holds (both ends are in this process, so each
// connection counts two endpoints).
func TestMemoryPerConnection(t *testing.T) {
	n := *memConns
	if *memProfile != "" {
		runtime.MemProfileRate = 512 // fine-grained: the objects are small
	}
	raiseFDLimit(t, uint64(2*n+256))
	net := testnet.New(t)
	ta, tb := socket.NewTable(), socket.NewTable()
	time.Sleep(50 * time.Millisecond)
	before := heapInUse()
	start := time.Now()
	clients, servers := openEchoed(t, net, ta, tb, n, start.Add(60*time.Second))
	opened := time.Since(start)
	time.Sleep(300 * time.Millisecond) // delayed ACKs go out, timers settle
	after := heapInUse()
	perEnd := float64(after-before) / float64(2*n)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d connections opened and echoed in %v: heap in use %d -> %d KiB, %.0f bytes per endpoint; goroutines %d; heap sys %d KiB, released %d KiB; VmRSS %d KiB",
		n, opened, before>>10, after>>10, perEnd, runtime.NumGoroutine(), ms.HeapSys>>10, ms.HeapReleased>>10, vmRSSKiB())
	// Idle connections should cost nothing while idle: no timers firing,
	// no scans allocating.
	runtime.ReadMemStats(&ms)
	allocBefore := ms.TotalAlloc
	time.Sleep(time.Second)
	runtime.ReadMemStats(&ms)
	idleAlloc := ms.TotalAlloc - allocBefore
	t.Logf("allocated while idle for 1 s: %d KiB", idleAlloc>>10)
	if idleAlloc > 64<<10 {
		t.Errorf("%d KiB allocated in 1 s with every connection idle, want under 64", idleAlloc>>10)
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err != nil {
			t.Fatal(err)
		}
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	for _, fd := range clients {
		ta.Close(fd)
	}
	for _, fd := range servers {
		tb.Close(fd)
	}
	if perEnd > maxBytesPerEndpoint {
		t.Errorf("%.0f bytes of heap per endpoint, want at most %d", perEnd, maxBytesPerEndpoint)
	}
}
