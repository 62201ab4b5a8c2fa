package tap_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gonetif.dev/gonetif/internal/netnstest"
	"gonetif.dev/gonetif/link/tap"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

func modeName(plain bool) string {
	if plain {
		return "plain"
	}
	return "offload"
}

func TestPing(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(modeName(plain), func(t *testing.T) {
			r := newRig(t, plain) // waits for the first reply
			out := r.ns.Exec(t, "ping", "-c", "3", "-i", "0.2", "-W", "2", stackIP)
			if !strings.Contains(out, "3 received") {
				t.Fatalf("ping:\n%s", out)
			}
			if st := r.ep.Stats(); st.RxFrames == 0 || st.TxFrames == 0 {
				t.Fatalf("stats did not move: %+v", st)
			}
		})
	}
}

func TestBulkTCP(t *testing.T) {
	netnstest.Require(t)
	const size = 8 << 20
	file, data, sum := randomFile(t, size)
	for _, plain := range []bool{false, true} {
		t.Run(modeName(plain), func(t *testing.T) {
			r := newRig(t, plain)
			sendToHost(t, r, 5001, data, sum)
			if n := recvFromHost(t, r, 5002, file, sum); n != size {
				t.Fatalf("received %d bytes, want %d", n, size)
			}
			st := r.ep.Stats()
			t.Logf("%s stats: %+v", modeName(plain), st)
			if plain && (st.RxGSO != 0 || st.TxGSO != 0) {
				t.Errorf("plain mode saw GSO frames: %+v", st)
			}
			if !plain && (st.RxGSO == 0 || st.TxGSO == 0) {
				t.Errorf("offload mode used no GSO (rx %d, tx %d): offload is not working", st.RxGSO, st.TxGSO)
			}
			if st.RxMalformed != 0 || st.RxBadChecksum != 0 {
				t.Errorf("bad frames: %+v", st)
			}
		})
	}
}

// TestBulkSendFullFrames: 64 KiB writes go out in frames as large as the
// GSO limit and the window allow, not a full frame and a ~160-byte rest
// per write (the snd.go fill edit of internal/gvisorfix).
func TestBulkSendFullFrames(t *testing.T) {
	netnstest.Require(t)
	const size, write = 8 << 20, 64 << 10
	_, data, sum := randomFile(t, size)
	r := &rig{ns: netnstest.New(t)}
	r.ns.AddTap(t, tapName, hostCIDR, -1)
	ep, err := tap.Open(tap.Options{Name: tapName, NetNS: r.ns.Path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	sizes := &frameSizes{}
	sizes.Endpoint.Init(ep, sizes)
	r.ep, r.s = ep, newStack(t, sizes)
	s := r.s
	// Nagle on, as on gonetif's sockets (and Linux's): a rest that the
	// next write has not yet joined waits for it instead of going alone
	// (a writer slower than the sender, as under -race, showed that).
	nagle := tcpip.TCPDelayEnabled(true)
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &nagle); err != nil {
		t.Fatalf("delay option: %v", err)
	}
	t.Cleanup(func() { destroy(t, s) })
	waitPing(t, r.ns, stackIP)
	sendToHostIn(t, r, 5003, data, sum, write)
	small, frames := sizes.small.Load(), sizes.frames.Load()
	t.Logf("%d data frames for %d writes of %d bytes, %d of them under 1 KiB", frames, size/write, write, small)
	// Without the fill nearly every write left a ~160-byte rest (97-111
	// of 128). With it a rest goes alone only when the writer fell behind
	// and nothing is in flight (Nagle lets it go then): 2 here, up to 16
	// under -race.
	if small > size/write/4 {
		t.Errorf("%d of %d data frames carry under 1 KiB: 64 KiB writes are split into a full frame and a small rest",
			small, frames)
	}
}

// frameSizes counts the TCP data frames a stack writes, and those that
// carry under 1 KiB.
type frameSizes struct {
	nested.Endpoint
	frames, small atomic.Int64
}

func (f *frameSizes) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	for _, pkt := range pkts.AsSlice() {
		if pkt.TransportProtocolNumber != header.TCPProtocolNumber {
			continue
		}
		if n := pkt.Data().Size(); n > 0 {
			f.frames.Add(1)
			if n < 1024 {
				f.small.Add(1)
			}
		}
	}
	return f.Endpoint.WritePackets(pkts)
}

// TestOffloadReset: offload flags persist on a persistent TAP, so a plain
// user after an offload user must clear them or lose checksum-partial frames.
func TestOffloadReset(t *testing.T) {
	netnstest.Require(t)
	const size = 1 << 20
	file, data, sum := randomFile(t, size)
	r := newRig(t, false)
	recvFromHost(t, r, 5003, file, sum)
	if out := r.ns.Exec(t, "ethtool", "-k", tapName); !strings.Contains(out, "tx-checksumming: on") {
		t.Errorf("offload mode: expected tx-checksumming on:\n%s", out)
	}
	r.close(t)

	r.open(t, true)
	if out := r.ns.Exec(t, "ethtool", "-k", tapName); !strings.Contains(out, "tx-checksumming: off") {
		t.Errorf("plain mode after offload: expected tx-checksumming off:\n%s", out)
	}
	recvFromHost(t, r, 5004, file, sum)
	sendToHost(t, r, 5005, data, sum)
	if st := r.ep.Stats(); st.RxMalformed != 0 {
		t.Errorf("malformed frames: %+v", st)
	}
}

func TestMissingInterface(t *testing.T) {
	ns := netnstest.New(t)
	for _, plain := range []bool{false, true} {
		_, err := tap.Open(tap.Options{Name: "gntnone0", NetNS: ns.Path, Plain: plain})
		var te *tap.Error
		if !errors.As(err, &te) || !errors.Is(err, unix.ENODEV) {
			t.Fatalf("Open of a missing interface: got %v, want *tap.Error wrapping ENODEV", err)
		}
		if te.Name != "gntnone0" || !strings.Contains(err.Error(), "make_tap_netif") {
			t.Errorf("error message not helpful: %v", err)
		}
	}
	if out, err := ns.Run("ip", "link", "show", "gntnone0"); err == nil {
		t.Fatalf("Open created the interface:\n%s", out)
	}
}

func TestCreate(t *testing.T) {
	ns := netnstest.New(t)
	ep, err := tap.Open(tap.Options{Name: "gntnew0", NetNS: ns.Path, Create: true})
	if err != nil {
		t.Fatalf("Open with Create: %v", err)
	}
	ns.Exec(t, "ip", "link", "show", "gntnew0")
	ep.Close()
	ep.Wait()
	if _, err := ns.Run("ip", "link", "show", "gntnew0"); err == nil {
		t.Fatalf("non-persistent TAP still exists after Close")
	}
}

func TestBusy(t *testing.T) {
	ns := netnstest.New(t)
	ns.AddTap(t, tapName, "", -1)
	ep, err := tap.Open(tap.Options{Name: tapName, NetNS: ns.Path})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ep.Close(); ep.Wait() }()
	_, err = tap.Open(tap.Options{Name: tapName, NetNS: ns.Path})
	if !errors.Is(err, unix.EBUSY) {
		t.Fatalf("second Open: got %v, want EBUSY", err)
	}
}

func TestNotATap(t *testing.T) {
	ns := netnstest.New(t)
	ns.Exec(t, "ip", "tuntap", "add", "dev", "gtun0", "mode", "tun")
	_, err := tap.Open(tap.Options{Name: "gtun0", NetNS: ns.Path})
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "not a TAP") {
		t.Fatalf("Open of a TUN device: got %v, want EINVAL 'not a TAP'", err)
	}
}

func TestInvalidOptions(t *testing.T) {
	cases := []tap.Options{
		{MTU: 10},
		{MTU: 70000},
		{MAC: "\x02\x00\x00\x00\x01"},         // 5 bytes
		{MAC: "\x01\x00\x5e\x00\x00\x01"},     // multicast
		{MAC: "\x00\x00\x00\x00\x00\x00"},     // zero
		{Name: "a-name-that-is-far-too-long"}, // > IFNAMSIZ-1
		{Name: "bad/name"},
	}
	for _, o := range cases {
		_, err := tap.Open(o)
		var te *tap.Error
		if !errors.As(err, &te) || !errors.Is(err, unix.EINVAL) {
			t.Errorf("Open(%+v): got %v, want *tap.Error wrapping EINVAL", o, err)
		}
	}
}

func TestCloseIdle(t *testing.T) {
	ns := netnstest.New(t)
	ns.AddTap(t, tapName, "", -1)
	ep, err := tap.Open(tap.Options{Name: tapName, NetNS: ns.Path})
	if err != nil {
		t.Fatal(err)
	}
	ep.Close()
	ep.Close() // twice is fine
	ep.Wait()
	// The TAP was released: it can be opened again.
	ep2, err := tap.Open(tap.Options{Name: tapName, NetNS: ns.Path, Plain: true})
	if err != nil {
		t.Fatalf("reopen after Close: %v", err)
	}
	ep2.Close()
	ep2.Wait()
}

// TestCloseUnderLoad closes the endpoint while TCP flows both ways: Close
// must return promptly and no goroutine may be left behind.
func TestCloseUnderLoad(t *testing.T) {
	ns := netnstest.New(t)
	ns.AddTap(t, tapName, hostCIDR, -1)
	before := runtime.NumGoroutine()
	r := &rig{ns: ns}
	r.open(t, false)

	// Host floods the stack; the stack floods the host.
	l := listen(t, r.s, 6001)
	ns.Start(t, "socat", "-u", "OPEN:/dev/zero", "TCP4:"+stackIP+":6001")
	in := accept(t, l, 15*time.Second)
	ns.Start(t, "socat", "-u", "TCP4-LISTEN:6002,reuseaddr", "OPEN:/dev/null")
	out := dial(t, r.s, 6002)

	var wg sync.WaitGroup
	var inBytes, outBytes int64
	wg.Add(2)
	go func() {
		defer wg.Done()
		inBytes, _ = io.Copy(io.Discard, in)
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := out.Write(buf)
			outBytes += int64(n)
			if err != nil {
				return
			}
		}
	}()
	// Flowing both ways is what counts, not how fast: under -race on a
	// busy machine the stack's sending side moved 9 MB in 10 s (CI).
	ok := netnstest.WaitFor(20*time.Second, 20*time.Millisecond, func() bool {
		st := r.ep.Stats()
		return st.RxBytes > 4<<20 && st.TxBytes > 4<<20
	})
	if !ok {
		t.Fatalf("traffic did not flow: %+v", r.ep.Stats())
	}

	start := time.Now()
	r.ep.Close()
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Close took %v under load", d)
	}
	waited := make(chan struct{})
	go func() { r.ep.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(2 * time.Second):
		t.Fatalf("Wait did not return within 2s of Close")
	}
	t.Logf("closed after %v; rx %d MB, tx %d MB through the endpoint", time.Since(start),
		r.ep.Stats().RxBytes>>20, r.ep.Stats().TxBytes>>20)

	destroy(t, r.s) // aborts the connections, so the copiers return
	in.Close()
	out.Close()
	l.Close()
	copied := make(chan struct{})
	go func() { wg.Wait(); close(copied) }()
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		t.Fatalf("traffic goroutines still blocked 5s after stack teardown")
	}
	t.Logf("copied in %d MB, out %d MB", inBytes>>20, outBytes>>20)
	var left []string
	if !netnstest.WaitFor(5*time.Second, 20*time.Millisecond, func() bool {
		left = stackGoroutines()
		return len(left) == 0
	}) {
		t.Fatalf("%d goroutines of gVisor or the endpoint left (%d before the test):\n%s",
			len(left), before, strings.Join(left, "\n\n"))
	}
}

// stackGoroutines returns the goroutines running gVisor or endpoint code
// (netnstest's process reapers are not ours to count).
func stackGoroutines() []string {
	buf := make([]byte, 4<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "gvisor.dev/gvisor/") || strings.Contains(g, "gonetif/link/tap.") {
			out = append(out, g)
		}
	}
	return out
}

func TestErrorMessages(t *testing.T) {
	e := &tap.Error{Name: "tap0", Op: "TUNSETIFF", Err: unix.EPERM}
	if !errors.Is(e, fs.ErrPermission) || !strings.Contains(e.Error(), "make_tap_netif") || !strings.Contains(e.Error(), `"tap0"`) {
		t.Errorf("EPERM error: %v", e)
	}
	e = &tap.Error{Name: "tap0", Op: "open", Err: unix.ENOENT}
	if !strings.Contains(e.Error(), "tun") {
		t.Errorf("ENOENT error: %v", e)
	}
}

// TestDestroyUnderLoad: gVisor's Stack.Wait holds the stack lock while it
// waits for the link endpoint, and frames still arriving need that lock to
// answer with RST. Destroy must still return.
func TestDestroyUnderLoad(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(modeName(plain), func(t *testing.T) {
			r := newRig(t, plain)
			l := listen(t, r.s, 6003)
			r.ns.Start(t, "socat", "-u", "OPEN:/dev/zero", "TCP4:"+stackIP+":6003")
			c := accept(t, l, 15*time.Second)
			go func() { _, _ = io.Copy(io.Discard, c) }()
			if !netnstest.WaitFor(10*time.Second, 10*time.Millisecond, func() bool {
				return r.ep.Stats().RxBytes > 8<<20
			}) {
				t.Fatalf("no traffic: %+v", r.ep.Stats())
			}
			start := time.Now()
			destroy(t, r.s)
			t.Logf("Destroy under load took %v", time.Since(start))
			var left []string
			if !netnstest.WaitFor(5*time.Second, 20*time.Millisecond, func() bool {
				left = stackGoroutines()
				return len(left) == 0
			}) {
				t.Fatalf("goroutines left after Destroy:\n%s", strings.Join(left, "\n\n"))
			}
		})
	}
}

// Options.PollThread (GONETIF_TAP_NETPOLL=0 through tapio) selects the
// poll(2) reader; it must carry traffic both ways like the default one.
func TestPollThreadReader(t *testing.T) {
	netnstest.Require(t)
	const size = 2 << 20
	file, data, sum := randomFile(t, size)
	for _, pollThread := range []bool{false, true} {
		t.Run(fmt.Sprintf("pollthread=%v", pollThread), func(t *testing.T) {
			ns := netnstest.New(t)
			ns.AddTap(t, tapName, hostCIDR, -1)
			ep, err := tap.Open(tap.Options{Name: tapName, NetNS: ns.Path, PollThread: pollThread})
			if err != nil {
				t.Fatal(err)
			}
			if ep.UsesNetpoll() == pollThread {
				t.Fatalf("PollThread %v, but the netpoll reader is %v", pollThread, ep.UsesNetpoll())
			}
			r := &rig{ns: ns, ep: ep, s: newStack(t, ep)}
			s := r.s
			t.Cleanup(func() { destroy(t, s) })
			waitPing(t, ns, stackIP)
			sendToHost(t, r, 5001, data, sum)
			if n := recvFromHost(t, r, 5002, file, sum); n != size {
				t.Fatalf("received %d bytes, want %d", n, size)
			}
		})
	}
}
