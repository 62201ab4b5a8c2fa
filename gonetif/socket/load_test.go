package socket_test

import (
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif/internal/leakcheck"
	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

var heapInUse = leakcheck.HeapInUse

// raiseFDLimit makes room for the placeholder descriptors of many sockets.
func raiseFDLimit(t *testing.T, n uint64) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	lim.Cur = min(n, lim.Max)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < n {
		t.Skipf("cannot raise RLIMIT_NOFILE to %d", n)
	}
}

// 1000 TCP connections open at once through descriptor tables, each
// carrying data both ways, then all closed.
func TestLoad1000Connections(t *testing.T) {
	const n = 1000
	raiseFDLimit(t, 4*n)
	start := time.Now()
	net := testnet.New(t)
	ta, tb := socket.NewTable(), socket.NewTable()
	deadline := time.Now().Add(50 * time.Second)
	clients, servers := openConns(t, net, ta, tb, 6000, n, n, deadline)
	if ta.Len() != n || tb.Len() != n {
		t.Fatalf("tables hold %d and %d sockets, want %d", ta.Len(), tb.Len(), n)
	}
	// Every client says hello; every server answers; all connections live.
	msg := []byte("hello-12")
	for _, fd := range clients {
		so, _ := ta.Get(fd)
		if err := so.ConnectResult(); err != nil {
			so.Wait(waiter.WritableEvents, deadline)
			if err := so.ConnectResult(); err != nil {
				t.Fatalf("connect result: %v", err)
			}
		}
		if k, err := so.Send(msg, nil, socket.SendFlags{}); err != nil || k != len(msg) {
			t.Fatalf("send: %d %v", k, err)
		}
	}
	buf := make([]byte, 64)
	for _, fd := range servers {
		so, _ := tb.Get(fd)
		got := 0
		for got < len(msg) {
			r, err := so.Recv(buf[got:], socket.RecvFlags{})
			if err == unix.EAGAIN {
				if err := so.Wait(waiter.ReadableEvents, deadline); err != nil {
					t.Fatal("server receive timed out")
				}
				continue
			}
			if err != nil || r.EOF {
				t.Fatalf("server recv: %v eof=%v", err, r.EOF)
			}
			got += r.N
		}
		if _, err := so.Send(buf[:got], nil, socket.SendFlags{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, fd := range clients {
		so, _ := ta.Get(fd)
		got := 0
		for got < len(msg) {
			r, err := so.Recv(buf[got:], socket.RecvFlags{})
			if err == unix.EAGAIN {
				if err := so.Wait(waiter.ReadableEvents, deadline); err != nil {
					t.Fatal("client receive timed out")
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			got += r.N
		}
		if string(buf[:got]) != string(msg) {
			t.Fatalf("echo %q", buf[:got])
		}
	}
	for _, fd := range clients {
		ta.Close(fd)
	}
	for _, fd := range servers {
		tb.Close(fd)
	}
	if ta.Len() != 0 || tb.Len() != 0 {
		t.Fatalf("tables still hold %d and %d", ta.Len(), tb.Len())
	}
	if left := ta.Drain(10*time.Second, nil); left != 0 {
		t.Fatalf("%d connections still sending", left)
	}
	t.Logf("%d concurrent connections: %v", n, time.Since(start))
}

// 100 000 socket open/close cycles leave descriptors, goroutines and
// memory where they were.
func TestLoadOpenClose100k(t *testing.T) {
	const cycles = 100000
	net := testnet.New(t)
	tab := socket.NewTable()
	cycle := func(i int) {
		typ := unix.SOCK_STREAM
		if i%2 == 1 {
			typ = unix.SOCK_DGRAM
		}
		so, err := socket.New(net.A.Gvisor(), unix.AF_INET, typ, 0)
		if err != nil {
			t.Fatal(err)
		}
		fd, err := tab.Add(so)
		if err != nil {
			t.Fatal(err)
		}
		if i%4 == 1 { // a bound datagram socket, as a client would have
			if err := so.Bind(addr(ipA, 0)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tab.Close(fd); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2000; i++ { // warm-up: pools and maps reach their size
		cycle(i)
	}
	time.Sleep(50 * time.Millisecond)
	fds, gor, heap := openFDs(t), runtime.NumGoroutine(), heapInUse()
	start := time.Now()
	for i := 0; i < cycles; i++ {
		cycle(i)
	}
	elapsed := time.Since(start)
	time.Sleep(100 * time.Millisecond)
	fds2, gor2, heap2 := openFDs(t), runtime.NumGoroutine(), heapInUse()
	t.Logf("%d cycles in %v: fds %d->%d goroutines %d->%d heap %d->%d KiB",
		cycles, elapsed, fds, fds2, gor, gor2, heap>>10, heap2>>10)
	if tab.Len() != 0 {
		t.Errorf("table holds %d sockets", tab.Len())
	}
	if fds2 != fds {
		t.Errorf("open descriptors %d -> %d", fds, fds2)
	}
	if gor2 > gor+2 {
		t.Errorf("goroutines %d -> %d", gor, gor2)
	}
	if heap2 > heap+4<<20 {
		t.Errorf("heap in use grew by %d KiB", (heap2-heap)>>10)
	}
	if elapsed > 60*time.Second {
		t.Errorf("took %v", elapsed)
	}
}
