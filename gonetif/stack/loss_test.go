package stack_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"gonetif.dev/gonetif/internal/netnstest"
	"gonetif.dev/gonetif/stack"
	"gonetif.dev/gonetif/tapio"
)

var (
	lossSize    = flag.Int("loss.mb", 10, "MB sent each way by each run of TestLossRecovery")
	lossRuns    = flag.Int("loss.runs", 5, "runs each way per loss level in TestLossRecovery (the medians are compared)")
	lossRACK    = flag.Bool("loss.rack", true, "RACK loss detection on (false: Options.NoRACK)")
	lossMinRTO  = flag.Duration("loss.minrto", 5*time.Millisecond, "Options.MinRTO for the stack under test (0: the default 200 ms)")
	lossBound   = flag.Float64("loss.bound", 2, "fail when the app sender's median time is more than this many times the kernel's, at every level, against the kernel on Reno")
	lossBound1  = flag.Float64("loss.bound1", 3, "the bound at 1 % loss against the machine's default congestion control (0: not checked, only logged)")
	lossBound5  = flag.Float64("loss.bound5", 4, "the bound at 5 % loss against the machine's default congestion control (0: not checked, only logged)")
	lossBound10 = flag.Float64("loss.bound10", 8, "the same at 10 % loss (0: not checked, only logged)")
	suiteMB     = flag.Int("loss.suite-mb", 100, "MB sent each way by TestLossSuite")
	lossNoDelay = flag.Bool("loss.nodelay", false, "Nagle off in the stack under test (Options.NoDelay)")
	lossProbe   = flag.Bool("loss.probe", false, "keep each connection's last TCP sender state (Options.TCPProbe; slows the stack) for the report of a transfer that never finishes")
	lossCC      = flag.String("loss.cc", "", "congestion control for the stack under test (reno, cubic; empty: the stack's default)")
	lossKernCC  = flag.String("loss.kernelcc", "", "congestion control of the kernel's TCP in the rig's namespace (reno, cubic, bbr; empty: the namespace's default, logged)")
	lossKernRTO = flag.Duration("loss.kernelrtomin", 0, "the kernel's retransmission timeout floor towards the app (ip route rto_min; 0: Linux's 200 ms)")
	lossPcap    = flag.String("loss.pcap", "", "capture TestLossRecovery's TCP on the TAP's host side, both senders, into PREFIX-N%.pcap (headers only)")
)

// The kernel owns hostIP on the TAP inside the namespace; the stack is appIP.
const (
	tapName = "gl0"
	hostIP  = "10.79.0.1"
	appIP   = "10.79.0.2"
)

var (
	appAddr  = tcpip.AddrFrom4([4]byte{10, 79, 0, 2})
	hostAddr = tcpip.AddrFrom4([4]byte{10, 79, 0, 1})
)

// lossRig is a gonetif stack (stack.New, the options under test) on a TAP
// with the loss layer, and the kernel's TCP on the other side.
type lossRig struct {
	ns  *netnstest.NS
	s   *gvstack.Stack
	drv *tapio.Driver

	mu   sync.Mutex
	last map[uint16]tcp.TCPSenderState // by local port, with -loss.probe
}

func (r *lossRig) probe(st *tcp.TCPEndpointState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = make(map[uint16]tcp.TCPSenderState)
	}
	r.last[st.ID.LocalPort] = st.Sender
}

// newLossRig: netem is a netem qdisc's arguments for the peer's side, or
// "jitter" for our own delay-and-reorder layer when the kernel has none;
// peerLoss > 0 drops that percentage on the peer's side (nftables) and
// opens the TAP plain, so that a drop is one wire segment, not a GSO batch.
func newLossRig(t testing.TB, opts stack.Options, inLoss, outLoss int, netem string, peerLoss int) *lossRig {
	t.Helper()
	return newLossRigWith(t, opts, inLoss, outLoss, netem, peerLoss, kernelTCP{cc: *lossKernCC, rtoMin: *lossKernRTO})
}

// kernelTCP is the kernel's TCP set-up in a rig's namespace: its
// congestion control (empty: the namespace's default) and its
// retransmission timeout floor towards the app (0: Linux's 200 ms).
type kernelTCP struct {
	cc     string
	rtoMin time.Duration
}

func newLossRigWith(t testing.TB, opts stack.Options, inLoss, outLoss int, netem string, peerLoss int, k kernelTCP) *lossRig {
	t.Helper()
	ns := netnstest.New(t)
	requireTools(t, "ip", "ping", "socat", "nstat")
	if peerLoss > 0 {
		ns.AddTap(t, tapName, "", -1)
		addPeerLoss(t, ns, peerLoss)
	} else {
		ns.AddTap(t, tapName, hostIP+"/24", -1)
	}
	if netem != "" && netem != "jitter" {
		ns.Exec(t, append([]string{"tc", "qdisc", "add", "dev", tapName, "root", "netem"}, strings.Fields(netem)...)...)
	}
	// The kernel's congestion control decides how much of its window a loss
	// costs it (BBR hardly reacts to random loss, Reno halves): logged, as
	// the ratios depend on it.
	if k.cc != "" {
		ns.Exec(t, "sysctl", "-q", "-w", "net.ipv4.tcp_congestion_control="+k.cc)
	}
	if k.rtoMin > 0 {
		ns.Exec(t, "ip", "route", "add", appIP+"/32", "dev", tapName, "rto_min", fmt.Sprintf("%dms", k.rtoMin.Milliseconds()))
	}
	if cc, err := ns.Run("sysctl", "-n", "net.ipv4.tcp_congestion_control"); err == nil {
		t.Logf("the kernel's congestion control: %s", strings.TrimSpace(cc))
	}
	// The driver tapio_create() uses: TAP, loss layer.
	d, err := tapio.Open(tapio.Config{Name: tapName, NetNS: ns.Path, InLoss: inLoss, OutLoss: outLoss, Plain: peerLoss > 0})
	if err != nil {
		t.Fatalf("tapio.Open: %v", err)
	}
	r := &lossRig{ns: ns, drv: d}
	if *lossProbe {
		opts.TCPProbe = r.probe
	}
	s, err := stack.New(opts)
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	r.s = s
	if *lossCC != "" {
		cc := tcpip.CongestionControlOption(*lossCC)
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &cc); err != nil {
			t.Fatalf("congestion control %q: %v", *lossCC, err)
		}
	}
	var link gvstack.LinkEndpoint = d.Link()
	if netem == "jitter" {
		link = newJitterLink(link, time.Millisecond, 5)
	}
	if err := s.CreateNIC(1, link); err != nil {
		t.Fatalf("CreateNIC: %v", err)
	}
	if err := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: appAddr, PrefixLen: 24}}, gvstack.AddressProperties{}); err != nil {
		t.Fatal(err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: 1}})
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { s.Destroy(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("stack.Destroy did not return within 10 s")
		}
	})
	// Loss may eat the first pings: up to 30 tries, 1 s each.
	if !netnstest.WaitFor(40*time.Second, 0, func() bool {
		_, err := ns.Run("ping", "-c", "1", "-W", "1", appIP)
		return err == nil
	}) {
		t.Fatalf("no ping reply from %s", appIP)
	}
	return r
}

func randomData(t testing.TB, n int) (path string, sum string) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, int64(n)); err != nil {
		t.Fatal(err)
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil))
}

// appSends streams the file from the stack to a kernel sink and returns how
// long it took from the connection's establishment (Dial returned) until the
// kernel had every byte (SHA-256 checked). Like kernelSends, it leaves the
// handshake out: a lost SYN or SYN-ACK costs a 1 s resend on either side,
// which would swamp a 0.2-1 s transfer and say nothing of data recovery.
func (r *lossRig) appSends(t testing.TB, port uint16, path, want string, limit time.Duration) time.Duration {
	t.Helper()
	out := filepath.Join(t.TempDir(), "sum")
	cmd := r.ns.Start(t, "sh", "-c", fmt.Sprintf("socat -u TCP4-LISTEN:%d,reuseaddr STDOUT | sha256sum > %s", port, out))
	var c *gonet.TCPConn
	var errs []string
	if !netnstest.WaitFor(20*time.Second, 100*time.Millisecond, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		var err error
		c, err = gonet.DialContextTCP(ctx, r.s, tcpip.FullAddress{NIC: 1, Addr: hostAddr, Port: port}, ipv4.ProtocolNumber)
		if err != nil {
			errs = append(errs, err.Error())
		}
		return err == nil
	}) {
		t.Fatalf("cannot connect to the kernel sink on port %d: %d tries: %s; the sink printed %q", port, len(errs), strings.Join(errs, "; "), r.ns.Output(cmd))
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	_ = c.SetWriteDeadline(start.Add(limit))
	if _, err := io.Copy(c, f); err != nil {
		t.Fatalf("send after %v: %v", time.Since(start), err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	closed := time.Now()
	if o, ok := r.ns.Wait(cmd, limit-time.Since(start)); !ok {
		t.Fatalf("kernel sink did not finish within %v (the app's Write and Close returned after %v); the stack's TCP endpoints: %s; sink output:\n%s",
			limit, closed.Sub(start), r.endpoints(), o)
	}
	elapsed := time.Since(start)
	got, _ := os.ReadFile(out)
	if f := strings.Fields(string(got)); len(f) == 0 || f[0] != want {
		t.Fatalf("kernel received sha256 %q, want %s", got, want)
	}
	return elapsed
}

// endpoints describes the stack's TCP endpoints (state, timers, window),
// for a transfer that did not finish.
func (r *lossRig) endpoints() string {
	var out []string
	for _, e := range r.s.RegisteredEndpoints() {
		ep, ok := e.(tcpip.Endpoint)
		if !ok {
			continue
		}
		var info tcpip.TCPInfoOption
		if err := ep.GetSockOpt(&info); err != nil {
			continue
		}
		var id gvstack.TransportEndpointID
		if i, ok := ep.Info().(*gvstack.TransportEndpointInfo); ok {
			id = i.ID
		}
		desc := fmt.Sprintf("%d->%s:%d state %v cc %v cwnd %d ssthresh %d srtt %v rto %v",
			id.LocalPort, id.RemoteAddress, id.RemotePort, tcp.EndpointState(info.State), info.CcState, info.SndCwnd, info.SndSsthresh, info.RTT, info.RTO)
		r.mu.Lock()
		if st, ok := r.last[id.LocalPort]; ok {
			desc += fmt.Sprintf("; after the last segment it handled: una %d nxt %d outstanding %d sacked %d recovery %v (last %d)",
				st.SndUna, st.SndNxt, st.Outstanding, st.SackedOut, st.FastRecovery.Active, st.FastRecovery.Last)
		}
		r.mu.Unlock()
		out = append(out, "["+desc+"]")
	}
	return strings.Join(out, " ")
}

// kernelSends has the kernel stream the file to the stack and returns the
// time from the connection's establishment (Accept returned) until the
// stack had every byte (SHA-256 checked): the same span as appSends, the
// handshake and socat's start left out.
func (r *lossRig) kernelSends(t testing.TB, port uint16, path, want string, limit time.Duration) time.Duration {
	t.Helper()
	l, err := gonet.ListenTCP(r.s, tcpip.FullAddress{NIC: 1, Addr: appAddr, Port: port}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan error, 1)
	h := sha256.New()
	var n int64
	var start time.Time
	go func() {
		c, err := l.Accept()
		if err != nil {
			accepted <- err
			return
		}
		start = time.Now()
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(limit))
		n, err = io.Copy(h, c)
		accepted <- err
	}()
	r.ns.Start(t, "socat", "-u", "OPEN:"+path, fmt.Sprintf("TCP4:%s:%d,retry=50,interval=0.2", appIP, port))
	select {
	case err := <-accepted:
		if err != nil {
			t.Fatalf("receive after %d bytes: %v", n, err)
		}
	case <-time.After(limit + 5*time.Second):
		l.Close()
		t.Fatalf("kernel -> stack did not finish within %v", limit)
	}
	elapsed := time.Since(start)
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("stack received %d bytes with sha256 %s, want %s", n, got, want)
	}
	return elapsed
}

func flagOptions() stack.Options {
	return stack.Options{NoRACK: !*lossRACK, MinRTO: *lossMinRTO, NoDelay: *lossNoDelay}
}

// TestLossRecovery: under the same loss each way (our loss layer, every
// wire segment in and out), the stack sending to the kernel is compared
// with the kernel sending to the stack, -loss.runs times each on one rig,
// alternating which goes first, and the medians are compared: single runs
// of either vary by 2-5x on this machine. Both time the same span, from
// the connection's establishment at the stack to the receiver's last byte.
// scripts/test runs it in a step of its own (-p 1). The stack runs Reno
// with MinRTO 5 ms (GONETIF_TCP_MIN_RTO_MS=5; -loss.minrto=0 for the
// default 200 ms, where the app takes 8-30x at 5-10 %).
//
// It runs twice. Against the kernel on Reno with the same 5 ms floor (like
// with like: what loss recovery costs each) the bound is the target, 2x, at
// every level; the app took 0.1-0.6x the kernel's time at 5-10 %. Against
// the machine's default congestion control (BBR here, which barely slows
// for random loss, where Reno halves its window per loss) the app took
// 1.3-1.95x at 1 %, 1.9-2.7x at 5 % and 3.7-5.0x at 10 % in this round's
// runs: 3x, 4x and 8x bound it there, to catch regressions. The rig is
// checked too: the loss layer drops its rate and nothing else drops
// (checkDrops). bench/RESULTS.md ("Loss recovery") has the history and
// what is left.
func TestLossRecovery(t *testing.T) {
	netnstest.Require(t)
	size := *lossSize << 20
	if raceEnabled {
		size = min(size, 5<<20)
	}
	path, sum := randomData(t, size)
	kernels := []struct {
		name   string
		k      kernelTCP
		bounds map[int]float64
	}{
		// The same congestion control and timeout floor as the app's:
		// what loss recovery costs each, the 2x at every level.
		{"kernel reno", kernelTCP{cc: "reno", rtoMin: *lossMinRTO}, map[int]float64{1: *lossBound, 5: *lossBound, 10: *lossBound}},
		// As the machine is set up (BBR here, barely slowed by random
		// loss, against the app's Reno): logged, with looser bounds that
		// catch a regression.
		{"kernel default", kernelTCP{cc: *lossKernCC, rtoMin: *lossKernRTO}, map[int]float64{1: *lossBound1, 5: *lossBound5, 10: *lossBound10}},
	}
	for ki, kern := range kernels {
		t.Run(kern.name, func(t *testing.T) { lossRecoveryAgainst(t, kern.k, kern.bounds, uint16(1000*ki), size, path, sum) })
	}
}

func lossRecoveryAgainst(t *testing.T, k kernelTCP, bounds map[int]float64, portBase uint16, size int, path, sum string) {
	for i, pct := range []int{1, 5, 10} {
		t.Run(fmt.Sprintf("%d%%", pct), func(t *testing.T) {
			r := newLossRigWith(t, flagOptions(), pct, pct, "", 0, k)
			// Each transfer is bounded; 10 % once took 114 s before RACK.
			limit := 60 * time.Second
			if *lossPcap != "" {
				r.capture(t, fmt.Sprintf("%s-%d%%.pcap", *lossPcap, pct))
			}
			var apps, kernels []time.Duration
			runs := max(*lossRuns, 1)
			if raceEnabled {
				runs = min(runs, 3) // nothing is timed under the detector
			}
			for run := 0; run < runs; run++ {
				port := 6000 + portBase + uint16(100*i+2*run)
				var app, kernel time.Duration
				var appStat counters
				kstat := "?"
				kernelRun := func() {
					_, _ = r.ns.Run("nstat", "-n")
					before := tcpCounters(r.s)
					kernel = r.kernelSends(t, port, path, sum, limit)
					// Our receiver's ACKs: it ACKs nearly every segment,
					// Linux's every 2-4 (ACK loss hurts the app's sender
					// more), so both are logged.
					acks := tcpCounters(r.s).minus(before).segs
					if o, err := r.ns.Run("nstat", "TcpOutSegs", "TcpRetransSegs", "TcpExtTCPTimeouts", "TcpExtTCPLossProbes", "TcpExtTCPSackRecovery"); err == nil {
						kstat = strings.Join(strings.Fields(o), " ")
					}
					kstat = fmt.Sprintf("%s; our receiver sent %d segments", kstat, acks)
				}
				appRun := func() {
					before := tcpCounters(r.s)
					app = r.appSends(t, port+1, path, sum, limit)
					appStat = tcpCounters(r.s).minus(before)
				}
				// Alternate which goes first, so that neither always
				// meets the other's leftovers (FIN retransmissions, a
				// warm or cold cache, a neighbour's build starting).
				if run%2 == 0 {
					kernelRun()
					appRun()
				} else {
					appRun()
					kernelRun()
				}
				t.Logf("run %d: app sends %v (%s); kernel sends %v (%s)", run+1, app.Round(time.Millisecond),
					appStat, kernel.Round(time.Millisecond), kstat)
				apps, kernels = append(apps, app), append(kernels, kernel)
			}
			r.checkDrops(t, pct)
			app, kernel := median(apps), median(kernels)
			in, out := r.drv.Dropped()
			t.Logf("%d%% loss each way, %d MB, median of %d: app sends %v (%.1f MB/s), kernel sends %v (%.1f MB/s), ratio %.2f; dropped %d in, %d out",
				pct, size>>20, len(apps), app.Round(time.Millisecond), float64(size)/app.Seconds()/1e6,
				kernel.Round(time.Millisecond), float64(size)/kernel.Seconds()/1e6, app.Seconds()/kernel.Seconds(), in, out)
			if raceEnabled {
				t.Logf("race detector on: the stack runs several times slower, ratio not checked")
			} else if bound := bounds[pct]; bound > 0 && app.Seconds() > bound*kernel.Seconds() {
				t.Errorf("app sender %v (median) is more than %.1fx the kernel's %v", app, bound, kernel)
			}
		})
	}
}

// checkDrops: the rig must lose what it was told to and nothing more. The
// loss layer's rate is checked against pct (binomial, 5 sigma); the TAP
// endpoint must not have dropped a frame on its way out (a full queue there
// would be loss of ours on top of the configured rate), and what the kernel
// dropped at the TAP (frames we wrote it could not take, frames for us our
// reader did not take in time) is logged.
func (r *lossRig) checkDrops(t *testing.T, pct int) {
	t.Helper()
	din, dout := r.drv.Dropped()
	fin, fout := r.drv.Frames()
	p := float64(pct) / 100
	for _, d := range []struct {
		what          string
		drops, frames uint64
	}{{"received", din, fin}, {"sent", dout, fout}} {
		want := float64(d.frames) * p
		sigma := math.Sqrt(want * (1 - p))
		t.Logf("loss layer, %s: %d of %d frames dropped (%.2f%%)", d.what, d.drops, d.frames, 100*float64(d.drops)/float64(max(d.frames, 1)))
		if math.Abs(float64(d.drops)-want) > 5*sigma+1 {
			t.Errorf("loss layer dropped %d of %d %s frames, want %.0f ± %.0f (%d%%)", d.drops, d.frames, d.what, want, 5*sigma, pct)
		}
	}
	st := r.drv.Tap().Stats()
	if st.TxDropped != 0 {
		t.Errorf("the TAP endpoint dropped %d of %d frames on the way out (a full TAP queue): loss beyond the configured rate", st.TxDropped, st.TxFrames+st.TxDropped)
	}
	host := "?"
	if o, err := r.ns.Run("ip", "-s", "-j", "link", "show", tapName); err == nil {
		var links []struct {
			Stats64 struct {
				RX struct{ Packets, Dropped uint64 } `json:"rx"`
				TX struct{ Packets, Dropped uint64 } `json:"tx"`
			} `json:"stats64"`
		}
		if json.Unmarshal([]byte(o), &links) == nil && len(links) == 1 {
			s := links[0].Stats64
			host = fmt.Sprintf("took %d of our frames, dropped %d; sent us %d, dropped %d", s.RX.Packets, s.RX.Dropped, s.TX.Packets, s.TX.Dropped)
		}
	}
	t.Logf("TAP endpoint: %d frames out, %d dropped, %d in; the kernel's side of the TAP %s", st.TxFrames, st.TxDropped, st.RxFrames, host)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// capture runs tcpdump on the TAP's host side (what the kernel sees) until
// the test ends; the first 96 bytes of each frame are enough for tshark's
// TCP analysis.
func (r *lossRig) capture(t *testing.T, path string) {
	t.Helper()
	cmd := r.ns.Start(t, "tcpdump", "-i", tapName, "-s", "96", "-U", "-w", path, "tcp")
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		r.ns.Wait(cmd, 3*time.Second)
	})
	time.Sleep(300 * time.Millisecond) // tcpdump attaches
}

// counters are the sender's recovery statistics, to see how it recovered.
type counters struct{ segs, recv, retrans, timeouts, fastRetrans, sackRec, tlp, slowStart, spurious uint64 }

func tcpCounters(s *gvstack.Stack) counters {
	st := s.Stats().TCP
	return counters{st.SegmentsSent.Value(), st.ValidSegmentsReceived.Value(), st.Retransmits.Value(), st.Timeouts.Value(), st.FastRetransmit.Value(),
		st.SACKRecovery.Value(), st.TLPRecovery.Value(), st.SlowStartRetransmits.Value(), st.SpuriousRTORecovery.Value()}
}

func (c counters) minus(o counters) counters {
	return counters{c.segs - o.segs, c.recv - o.recv, c.retrans - o.retrans, c.timeouts - o.timeouts, c.fastRetrans - o.fastRetrans,
		c.sackRec - o.sackRec, c.tlp - o.tlp, c.slowStart - o.slowStart, c.spurious - o.spurious}
}

func (c counters) String() string {
	return fmt.Sprintf("segments %d (%d received), retransmits %d, RTOs %d, fast retransmits %d, SACK recoveries %d, TLP %d, slow-start retransmits %d, spurious RTOs %d",
		c.segs, c.recv, c.retrans, c.timeouts, c.fastRetrans, c.sackRec, c.tlp, c.slowStart, c.spurious)
}

// BenchmarkBulk measures loss-free bulk transfers both ways with the
// stack's options as given by -loss.rack and -loss.minrto (run it twice to
// compare): 64 MB per iteration.
func BenchmarkBulk(b *testing.B) {
	const size = 64 << 20
	for _, dir := range []string{"send", "recv"} {
		b.Run(dir, func(b *testing.B) {
			r := newLossRig(b, flagOptions(), 0, 0, "", 0)
			path, sum := randomData(b, size)
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				port := uint16(7000 + i)
				if dir == "send" {
					r.appSends(b, port, path, sum, 60*time.Second)
				} else {
					r.kernelSends(b, port, path, sum, 60*time.Second)
				}
			}
		})
	}
}

// TestLossSuite: 100 MB each way, SHA-256 checked, through our loss layer
// at 1, 5 and 10 % each way, with the kernel's netem adding delay, jitter
// and reordering on the peer's side of the TAP. Each transfer is bounded.
func TestLossSuite(t *testing.T) {
	netnstest.Require(t)
	if testing.Short() {
		t.Skip("-short: the loss suite moves 600 MB")
	}
	size := *suiteMB << 20
	if raceEnabled {
		size = min(size, 10<<20) // the race detector slows the stack ~10x
	}
	path, sum := randomData(t, size)
	netem := "delay 1ms 500us reorder 5% 50%"
	if !haveNetem(t) {
		netem = "jitter" // 1-1.1 ms each way, 5 % reordered, in the stack under test
	}
	for i, pct := range []int{1, 5, 10} {
		t.Run(fmt.Sprintf("%d%%", pct), func(t *testing.T) {
			if raceEnabled && pct == 10 {
				// Same code paths as 1 and 5 %; at 10 % with reordering the
				// known retransmission-timeout chains (defect 11), ~10x
				// slower under the detector, outlast any sane limit.
				t.Skip("race detector on: 10 % runs in the plain pass only")
			}
			r := newLossRig(t, flagOptions(), pct, pct, netem, 0)
			port := uint16(6100 + 2*i)
			limit := 300 * time.Second
			in := r.kernelSends(t, port, path, sum, limit)
			out := r.appSends(t, port+1, path, sum, limit)
			t.Logf("%d%% loss each way + netem %q, %d MB: app -> kernel %v (%.1f MB/s), kernel -> app %v (%.1f MB/s)",
				pct, netem, size>>20, out.Round(time.Millisecond), float64(size)/out.Seconds()/1e6,
				in.Round(time.Millisecond), float64(size)/in.Seconds()/1e6)
		})
	}
}

// addPeerLoss puts a wire with loss between the TAP and the kernel's
// peer: the TAP and one end of a veth pair in a bridge, the peer's address
// on the other end, and nftables dropping pct % of the TCP segments the
// bridge forwards each way. A drop in the peer's own input or output hook
// would not do: Linux's TCP sees an output drop as a failed send and
// resends it at once (0 retransmissions counted in a trial).
func addPeerLoss(t testing.TB, ns *netnstest.NS, pct int) {
	t.Helper()
	for _, args := range [][]string{
		{"ip", "link", "add", "br0", "type", "bridge"},
		{"ip", "link", "add", "peer0", "type", "veth", "peer", "name", "peer1"},
		{"ip", "link", "set", tapName, "master", "br0"},
		{"ip", "link", "set", "peer0", "master", "br0"},
		{"ip", "addr", "add", hostIP + "/24", "dev", "peer1"},
		// Segments, not 64 KiB GSO batches, cross the bridge.
		{"ethtool", "-K", "peer1", "gso", "off", "tso", "off", "gro", "off"},
		{"ethtool", "-K", "peer0", "gso", "off", "tso", "off", "gro", "off"},
		{"ip", "link", "set", "br0", "up"},
		{"ip", "link", "set", "peer0", "up"},
		{"ip", "link", "set", "peer1", "up"},
	} {
		ns.Exec(t, args...)
	}
	rules := fmt.Sprintf(`table bridge gonetif_loss {
	chain to_app {
		type filter hook forward priority 0; policy accept;
		oifname %[1]q meta l4proto tcp numgen random mod 100 < %[2]d counter drop
		iifname %[1]q meta l4proto tcp numgen random mod 100 < %[2]d counter drop
	}
}
`, tapName, pct)
	f := filepath.Join(t.TempDir(), "loss.nft")
	if err := os.WriteFile(f, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	ns.Exec(t, "nft", "-f", f)
}

// peerDropped returns the segments nftables dropped towards the app and
// from it.
func (r *lossRig) peerDropped(t *testing.T) (toApp, fromApp string) {
	o, err := r.ns.Run("nft", "list", "table", "bridge", "gonetif_loss")
	if err != nil {
		t.Logf("nft list: %v\n%s", err, o)
		return "?", "?"
	}
	var counts []string
	for _, f := range strings.Split(o, "\n") {
		if fs := strings.Fields(f); slices.Contains(fs, "packets") {
			counts = append(counts, fs[slices.Index(fs, "packets")+1])
		}
	}
	if len(counts) != 2 {
		return "?", "?"
	}
	return counts[0], counts[1]
}

// requireNft skips (fails under GONETIF_REQUIRE_PRIV=1) without nftables.
// requireTools names the first missing program the rig runs (a missing
// ping otherwise reads as "no ping reply"); scripts/deps installs them all.
func requireTools(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv(netnstest.EnvRequire) == "1" {
				t.Fatalf("%s not found (scripts/deps installs it) but %s=1", name, netnstest.EnvRequire)
			}
			t.Skipf("%s not found: install it (scripts/deps)", name)
		}
	}
}

// TestPeerLossSuite: 100 MB each way (-loss.suite-mb), SHA-256 checked,
// with the loss on the kernel's side of the TAP (nftables, 1, 5 and 10 %
// of TCP segments each way) and none in the stack under test: the
// kernel's netem, the usual tool, is missing from this machine's kernel,
// and so is any other qdisc that could delay (fq, for departure times),
// so the peer side gets loss but no delay. Each transfer is bounded.
func TestPeerLossSuite(t *testing.T) {
	netnstest.Require(t)
	requireTools(t, "nft")
	if testing.Short() {
		t.Skip("-short: the peer loss suite moves 600 MB")
	}
	size := *suiteMB << 20
	if raceEnabled {
		size = min(size, 10<<20)
	}
	path, sum := randomData(t, size)
	for i, pct := range []int{1, 5, 10} {
		t.Run(fmt.Sprintf("%d%%", pct), func(t *testing.T) {
			r := newLossRig(t, flagOptions(), 0, 0, "", pct)
			port := uint16(6200 + 2*i)
			limit := 300 * time.Second
			_, _ = r.ns.Run("nstat", "-n")
			in := r.kernelSends(t, port, path, sum, limit)
			if o, err := r.ns.Run("nstat", "TcpOutSegs", "TcpRetransSegs", "TcpExtTCPTimeouts"); err == nil {
				t.Logf("kernel sender: %s", strings.Join(strings.Fields(o), " "))
			}
			out := r.appSends(t, port+1, path, sum, limit)
			dIn, dOut := r.peerDropped(t)
			t.Logf("%d%% loss each way on the peer (nftables), %d MB: app -> kernel %v (%.1f MB/s), kernel -> app %v (%.1f MB/s); the wire dropped %s segments to the app, %s from it",
				pct, size>>20, out.Round(time.Millisecond), float64(size)/out.Seconds()/1e6,
				in.Round(time.Millisecond), float64(size)/in.Seconds()/1e6, dIn, dOut)
		})
	}
}

// haveNetem reports whether the kernel can add a netem qdisc.
func haveNetem(t *testing.T) bool {
	ns := netnstest.New(t)
	ns.AddTap(t, "probe0", "", -1)
	_, err := ns.Run("tc", "qdisc", "add", "dev", "probe0", "root", "netem", "delay", "1ms")
	if err != nil {
		t.Logf("no netem in this kernel: delay and reordering come from a layer in the stack under test")
	}
	return err == nil
}
