package gonetif_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif/dns"
	"gonetif.dev/gonetif/internal/dnstest"
	"gonetif.dev/gonetif/internal/hostile"
	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/netif"
)

var (
	soakFor     = flag.Duration("soak", 60*time.Second, "how long TestSoak churns (10m for the long run)")
	soakProfile = flag.String("soak.heapprofile", "", "write heap profiles (PREFIX-base.pprof at the second quarter, PREFIX-end.pprof at the end) to diff with go tool pprof -base")
)

func writeHeapProfile(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Errorf("heap profile: %v", err)
		return
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Errorf("heap profile: %v", err)
	}
}

// usage is one sample of the process's resources.
type usage struct {
	fds, threads, goroutines int
	rssMB                    float64
	heapMB                   float64 // live Go heap after a collection
}

func (u usage) String() string {
	return fmt.Sprintf("fds %d, threads %d, goroutines %d, RSS %.1f MB, live heap %.1f MB",
		u.fds, u.threads, u.goroutines, u.rssMB, u.heapMB)
}

func (u usage) counts() string {
	return fmt.Sprintf("fds %d, threads %d, goroutines %d", u.fds, u.threads, u.goroutines)
}

func sample(t *testing.T) usage {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	u := usage{fds: len(ents), goroutines: runtime.NumGoroutine()}
	// A leak shows in the live heap; RSS also moves with how much the
	// runtime keeps for later (more under a loaded machine's scheduling).
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u.heapMB = float64(ms.HeapAlloc) / (1 << 20)
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.Atoi(fields[0])
		switch k {
		case "Threads":
			u.threads = n
		case "VmRSS":
			u.rssMB = float64(n) / 1024
		}
	}
	return u
}

// dnsServer answers every A question on B with 10.7.0.<n>, where n is the
// first label's length, until the socket closes.
func dnsServer(t *testing.T, n *testnet.Net) {
	c, err := n.B.ListenUDP(netip.AddrPortFrom(testnet.AddrB, 53))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go dnstest.Serve(c, func(name string) (netip.Addr, bool) {
		label, _, _ := strings.Cut(name, ".")
		return netip.AddrFrom4([4]byte{10, 7, 0, byte(len(label))}), true
	})
}

// TestSoak churns TCP connections, UDP datagrams, DNS lookups and interface
// creation/destruction for -soak (60 s; 10m for the long run), sampling
// descriptors, threads, goroutines and RSS every second: after a warm-up
// (pools, TIME_WAIT up to its limit) they must stay flat.
func TestSoak(t *testing.T) {
	d := *soakFor
	if testing.Short() {
		d = 5 * time.Second
	}
	n := testnet.New(t)
	ln, err := n.B.ListenTCP(netip.AddrPortFrom(testnet.AddrB, 7))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go hostile.ServeEcho(ln)
	udp, err := n.B.ListenUDP(netip.AddrPortFrom(testnet.AddrB, 7))
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			k, from, err := udp.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = udp.WriteTo(buf[:k], from)
		}
	}()
	dnsServer(t, n)
	resolver := &dns.Resolver{Stack: n.A.Gvisor(), Servers: func() []netip.Addr { return []netip.Addr{testnet.AddrB} },
		Timeout: 500 * time.Millisecond}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var tcpOK, udpOK, udpLost, dnsOK, ifCycles atomic.Int64
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
	}
	loop := func(body func() bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !body() {
					return
				}
			}
		}()
	}
	msg := make([]byte, 1024)
	for w := 0; w < 2; w++ { // TCP: connect, 1 KiB echo, close
		loop(func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := n.A.DialTCP(ctx, netip.AddrPortFrom(testnet.AddrB, 7))
			if err != nil {
				fail("tcp dial: %v", err)
				return false
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			got := make([]byte, len(msg))
			if _, err := c.Write(msg); err != nil {
				fail("tcp write: %v", err)
				return false
			}
			if _, err := io.ReadFull(c, got); err != nil {
				fail("tcp echo: %v", err)
				return false
			}
			tcpOK.Add(1)
			return true
		})
	}
	loop(func() bool { // UDP: one socket per 100 datagrams
		c, err := n.A.DialUDP(netip.AddrPortFrom(testnet.AddrB, 7))
		if err != nil {
			fail("udp: %v", err)
			return false
		}
		defer c.Close()
		buf := make([]byte, 2048)
		for i := 0; i < 100; i++ {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			if _, err := c.Write(msg[:64+i]); err != nil {
				fail("udp write: %v", err)
				return false
			}
			if k, err := c.Read(buf); err != nil || k != 64+i {
				udpLost.Add(1) // a full in-memory queue may drop, as a NIC does
				continue
			}
			udpOK.Add(1)
		}
		return true
	})
	loop(func() bool { // DNS
		name := strings.Repeat("a", 1+int(dnsOK.Load()%20)) + ".soak.test"
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		res, err := resolver.Lookup(ctx, name, 4)
		if err != nil {
			fail("lookup %s: %v", name, err)
			return false
		}
		if want := netip.AddrFrom4([4]byte{10, 7, 0, byte(len(name) - len(".soak.test"))}); len(res.Addrs) != 1 || res.Addrs[0] != want {
			fail("lookup %s: %v, want %v", name, res.Addrs, want)
			return false
		}
		dnsOK.Add(1)
		return true
	})
	loop(func() bool { // interfaces: create, start, destroy
		p := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x02\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x02\x02"), 0)
		defer p.Close()
		i := ifCycles.Load()
		ni, err := n.A.AddInterface(netif.Config{Key: fmt.Sprintf("S%d", i%1000), Desc: "soak", Flags: netif.FlagAutoUp,
			RoutePrio: 10, IPInfo: netif.IPInfo{IP: netip.AddrFrom4([4]byte{10, 8, byte(i % 200), 1}),
				Netmask: netip.MustParseAddr("255.255.255.0")}}, p.A)
		if err != nil {
			fail("add interface: %v", err)
			return false
		}
		time.Sleep(10 * time.Millisecond)
		n.A.RemoveInterface(ni)
		ifCycles.Add(1)
		return true
	})

	start := time.Now()
	var samples []usage
	for time.Since(start) < d && !t.Failed() {
		time.Sleep(time.Second)
		samples = append(samples, sample(t))
		if *soakProfile != "" && len(samples) == int(d/time.Second)/4 {
			writeHeapProfile(t, *soakProfile+"-base.pprof")
		}
		if k := len(samples); k%10 == 0 {
			t.Logf("%3d s: %v", k, samples[k-1])
		}
	}
	if *soakProfile != "" {
		writeHeapProfile(t, *soakProfile+"-end.pprof")
	}
	close(stop)
	wg.Wait()
	if len(samples) < 4 {
		t.Fatalf("only %d samples", len(samples))
	}
	// The first quarter is warm-up (pools, TIME_WAIT up to its limit);
	// the second quarter's mean is the base, the last quarter's mean must
	// not be above it (means, because churn makes single samples spike).
	q := len(samples) / 4
	base, tail := meanUsage(samples[q:2*q]), meanUsage(samples[len(samples)-q:])
	t.Logf("%v: %d TCP connections, %d UDP echoes (%d lost), %d DNS lookups, %d interface cycles",
		d, tcpOK.Load(), udpOK.Load(), udpLost.Load(), dnsOK.Load(), ifCycles.Load())
	t.Logf("second quarter (mean): %v; last quarter (mean): %v", base, tail)
	if tcpOK.Load() == 0 || udpOK.Load() == 0 || dnsOK.Load() == 0 || ifCycles.Load() == 0 {
		t.Errorf("a churn did not run")
	}
	// The live heap is the leak check; RSS only catches gross growth (one
	// run on a loaded machine went 130 -> 168 MB with a flat heap).
	memGrew := tail.heapMB > base.heapMB+16 || tail.rssMB > base.rssMB+64
	if raceEnabled && memGrew {
		// The race detector's shadow memory moves RSS by ±50 MB.
		t.Logf("race detector on: memory not checked")
		memGrew = false
	}
	// Counts are compared by their floor in each quarter: connections in
	// flight move single samples and even quarter means by 100+ goroutines
	// on a loaded machine (CI: means 60 -> 148, samples 54-196), while a
	// leak lifts the floor too.
	baseLow, tailLow := floorUsage(samples[q:2*q]), floorUsage(samples[len(samples)-q:])
	t.Logf("second quarter (floor): %s; last quarter (floor): %s", baseLow.counts(), tailLow.counts())
	if tailLow.fds > baseLow.fds+8 || tailLow.threads > baseLow.threads+8 || tailLow.goroutines > baseLow.goroutines+64 || memGrew {
		t.Errorf("resources grew after warm-up: %v, then %v (floors %s, then %s)", base, tail, baseLow.counts(), tailLow.counts())
	}
	// The trend of the second half, so that a slow leak fails a long run
	// too: the live heap swings by 10-30 MB with the churn (TIME_WAIT at
	// its bound, connections in flight), a leak keeps climbing. 10m run:
	// -0.05 MB per second (a flat heap, 43-79 MB); the bound is 24 MB over
	// the half.
	half := samples[len(samples)/2:]
	heaps := make([]float64, len(half))
	for i, u := range half {
		heaps[i] = u.heapMB
	}
	slope := slopePerSample(heaps)
	t.Logf("live heap trend over the second half: %+.3f MB per sample (about 1 s), %+.1f MB over its %d samples", slope, slope*float64(len(half)), len(half))
	if !raceEnabled && slope*float64(len(half)) > 24 {
		t.Errorf("the live heap kept rising in the second half: %+.3f MB per sample, %+.1f MB over %d samples", slope, slope*float64(len(half)), len(half))
	}
}

// slopePerSample is the least-squares slope of ys against their index.
func slopePerSample(ys []float64) float64 {
	n := float64(len(ys))
	var sx, sy, sxx, sxy float64
	for i, y := range ys {
		x := float64(i)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	if d := n*sxx - sx*sx; d != 0 {
		return (n*sxy - sx*sy) / d
	}
	return 0
}

// floorUsage is the lowest count of each kind over us (memory fields zero).
func floorUsage(us []usage) usage {
	m := us[0]
	for _, u := range us[1:] {
		m.fds, m.threads, m.goroutines = min(m.fds, u.fds), min(m.threads, u.threads), min(m.goroutines, u.goroutines)
	}
	m.rssMB, m.heapMB = 0, 0
	return m
}

func meanUsage(us []usage) usage {
	var m usage
	for _, u := range us {
		m.fds += u.fds
		m.threads += u.threads
		m.goroutines += u.goroutines
		m.rssMB += u.rssMB
		m.heapMB += u.heapMB
	}
	k := len(us)
	return usage{m.fds / k, m.threads / k, m.goroutines / k, m.rssMB / float64(k), m.heapMB / float64(k)}
}
