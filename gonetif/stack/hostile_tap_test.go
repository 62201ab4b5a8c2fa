package stack_test

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"gonetif.dev/gonetif/internal/hostile"
	"gonetif.dev/gonetif/internal/leakcheck"
	"gonetif.dev/gonetif/internal/netnstest"
)

var (
	hostileFrames = flag.Int("hostile.frames", 1_000_000, "frames TestHostileFramesTAP writes into the TAP")
	heapTrace     = flag.Bool("hostile.heaptrace", false, "log the live heap every tenth of TestHostileFramesTAP's frames")
)

// packetInjector writes whole Ethernet frames into the TAP from its host
// side: an AF_PACKET socket bound to the TAP inside the namespace, so the
// frames reach the stack the way a LAN's would.
type packetInjector struct{ fd int }

func newPacketInjector(t *testing.T, ns *netnstest.NS, dev string) *packetInjector {
	t.Helper()
	p := &packetInjector{fd: -1}
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0) // protocol 0: send only
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
			unix.Close(fd)
			return err
		}
		p.fd = fd
		return nil
	})
	if err != nil {
		t.Fatalf("AF_PACKET socket on %s: %v", dev, err)
	}
	t.Cleanup(func() { unix.Close(p.fd) })
	return p
}

// TestHostileFramesTAP injects a million malformed frames (the hostile
// generator's classes) into a real TAP from the host side while the stack
// serves TCP echo to the kernel through the same TAP: the service answers
// byte-exact during and after, goroutines come back and the heap stays
// flat. Frames the kernel itself refuses to send (shorter than an Ethernet
// header, longer than the TAP's MTU) are counted, not sent.
func TestHostileFramesTAP(t *testing.T) {
	netnstest.Require(t)
	frames := *hostileFrames
	if raceEnabled {
		frames = min(frames, 100_000) // the race detector makes each frame ~10x dearer
	}
	if testing.Short() {
		frames = min(frames, 50_000)
	}
	r := newLossRig(t, flagOptions(), 0, 0, "", 0)
	const port = 7007
	ln, err := gonet.ListenTCP(r.s, tcpip.FullAddress{NIC: 1, Addr: appAddr, Port: port}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	dial := func() net.Conn {
		var c net.Conn
		err := r.ns.Do(func() error {
			var err error
			d := net.Dialer{Timeout: 10 * time.Second}
			c, err = d.DialContext(context.Background(), "tcp4", fmt.Sprintf("%s:%d", appIP, port))
			return err
		})
		if err != nil {
			t.Fatalf("dial the service from the kernel: %v", err)
		}
		return c
	}
	data := make([]byte, 1<<20)
	_, _ = rand.Read(data)
	echo := hostile.Echo
	echoOnce := func() {
		c := dial()
		defer c.Close()
		if err := echo(c, data); err != nil {
			t.Fatal(err)
		}
	}
	echoOnce() // warm-up
	flood := leakcheck.StartFlood()

	// Real traffic on one connection while the garbage flows.
	var rounds atomic.Int64
	var liveErr error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	live := dial()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer live.Close()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := echo(live, data[:64<<10]); err != nil {
				liveErr = err
				return
			}
			rounds.Add(1)
		}
	}()

	// The host side's MTU at its maximum, so that jumbo frames (up to 64 KiB)
	// reach the stack, whose own MTU stays 1500: a misconfigured LAN.
	r.ns.Exec(t, "ip", "link", "set", tapName, "mtu", "65521") // a TAP's maximum
	inj := newPacketInjector(t, r.ns, tapName)
	gen := hostile.New(1, r.drv.Link().LinkAddress(), appAddr, tcpip.AddrFrom4([4]byte{10, 79, 0, 77}))
	refused := map[string]int{}
	sent, runts := 0, 0
	start := time.Now()
	for i := 0; i < frames; i++ {
		if i == frames/2 {
			flood.HalfWay()
		}
		if *heapTrace && i%(frames/10) == 0 {
			t.Logf("%d frames: live heap %.1f MB", i, float64(leakcheck.LiveHeap())/1e6)
		}
		f := gen.Next()
		for {
			_, err := unix.Write(inj.fd, f)
			if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) {
				time.Sleep(50 * time.Microsecond) // the TAP's queue is full: the stack is behind
				continue
			}
			if err != nil && len(f) < header.EthernetMinimumSize && errors.Is(err, unix.EINVAL) {
				runts++ // AF_PACKET needs a whole Ethernet header
			} else if err != nil {
				refused[fmt.Sprintf("%d bytes: %v", len(f), err)]++
			} else {
				sent++
			}
			break
		}
		if time.Since(start) > 5*time.Minute {
			t.Fatalf("only %d frames in 5 minutes", i)
		}
	}
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if liveErr != nil {
		t.Fatalf("the service failed while the frames flowed: %v", liveErr)
	}
	stats, _ := r.ns.Run("ip", "-s", "link", "show", tapName)
	t.Logf("%d hostile frames in %v (%.0f/s) while %d echo rounds of 64 KiB ran: %d written into the TAP, %d runts shorter than an Ethernet header refused by AF_PACKET; classes %v",
		frames, elapsed.Round(time.Millisecond), float64(frames)/elapsed.Seconds(), rounds.Load(), sent, runts, gen.Classes)
	t.Logf("TAP counters:\n%s", strings.TrimSpace(stats))
	if rounds.Load() == 0 {
		t.Errorf("no echo round completed while the frames flowed")
	}
	if len(refused) > 0 {
		t.Errorf("the kernel refused frames it should pass to the TAP: %v", refused)
	}

	echoOnce() // byte-exact after the flood

	flood.Check(t)
	st := r.s.Stats()
	t.Logf("stack: %d packets received, %d malformed IP, %d malformed TCP/UDP, %d bad checksums, %d fragments dropped",
		st.IP.PacketsReceived.Value(), st.IP.MalformedPacketsReceived.Value(),
		st.TCP.InvalidSegmentsReceived.Value()+st.UDP.MalformedPacketsReceived.Value(),
		st.TCP.ChecksumErrors.Value()+st.UDP.ChecksumErrors.Value(), st.IP.MalformedFragmentsReceived.Value())
}
