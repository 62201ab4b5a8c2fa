package main_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/vlan"
	"gonetif.dev/internal/lantest"
)

// daemon is a gonetif-switch process started by the test.
type daemon struct {
	cmd  *exec.Cmd
	path string
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gonetif-switch")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func start(t *testing.T, bin string, args ...string) *daemon {
	t.Helper()
	d := &daemon{path: filepath.Join(t.TempDir(), "lan.sock"), done: make(chan struct{})}
	d.cmd = exec.Command(bin, append(args, d.path)...)
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := d.cmd.Process.Pid
	t.Cleanup(func() {
		// Only the process this test started, by its PID.
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-d.done
	})
	ready := make(chan struct{})
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			d.mu.Lock()
			d.out.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			if strings.Contains(sc.Text(), "listening on") {
				once.Do(func() { close(ready) })
			}
		}
		_ = d.cmd.Wait()
	}()
	select {
	case <-ready:
	case <-d.done:
		t.Fatalf("gonetif-switch exited: %s", d.log())
	case <-time.After(10 * time.Second):
		t.Fatalf("gonetif-switch not ready: %s", d.log())
	}
	return d
}

func (d *daemon) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

func (d *daemon) waitLog(t *testing.T, sub string) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(d.log(), sub) {
			return
		}
	}
	t.Fatalf("no %q in the switch's log:\n%s", sub, d.log())
}

// stop sends SIGTERM and expects a clean exit with the socket removed.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit 10 s after SIGTERM:\n%s", d.log())
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, d.log())
	}
	if _, err := os.Lstat(d.path); !os.IsNotExist(err) {
		t.Fatalf("socket file left behind: %v", err)
	}
}

func mac(i byte) tcpip.LinkAddress { return tcpip.LinkAddress([]byte{2, 0, 0, 0, 0x20, i}) }

func dial(t *testing.T, path string, i byte) *vlan.Client {
	t.Helper()
	c, err := vlan.Dial(path, vlan.ClientOptions{MAC: mac(i), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTwoStacksThroughDaemon: two stacks on clients of a switch process
// exchange TCP (byte-exact) and UDP; a peer going away is logged as
// leaving; SIGTERM stops the switch cleanly.
func TestTwoStacksThroughDaemon(t *testing.T) {
	d := start(t, build(t))
	a := lantest.Stack(t, "A", dial(t, d.path, 1), lantest.Addr(1))
	b := lantest.Stack(t, "B", dial(t, d.path, 2), lantest.Addr(2))
	lantest.TCPEcho(t, a, b, lantest.Addr(2), 8001, 4<<20)
	lantest.TCPEcho(t, b, a, lantest.Addr(1), 8002, 100<<10)
	lantest.UDPEcho(t, a, b, lantest.Addr(2), 8003)
	lantest.UDPEcho(t, b, a, lantest.Addr(1), 8004)

	// Bad frames from a peer are dropped with a log line; the peer stays.
	raw, err := net.Dial("unixpacket", d.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Write([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Write(make([]byte, 3000)); err != nil {
		t.Fatal(err)
	}
	d.waitLog(t, "shorter than an Ethernet header")
	d.waitLog(t, "frame longer than 1514 bytes")
	// The LAN still works.
	lantest.UDPEcho(t, a, b, lantest.Addr(2), 8005)
	raw.Close()
	d.waitLog(t, "left")
	d.stop(t)
}

func TestDaemonBadArguments(t *testing.T) {
	bin := build(t)
	for _, args := range [][]string{{}, {"-mtu", "10", "/tmp/x.sock"}, {"-mtu", "99999", "/tmp/x.sock"}, {"-queue", "-1", "/tmp/x.sock"}, {"a", "b"}} {
		cmd := exec.Command(bin, args...)
		var out bytes.Buffer
		cmd.Stderr = &out
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit 2\n%s", args, err, out.String())
		}
	}
	// A second switch on the same live socket fails instead of stealing it.
	d := start(t, bin)
	cmd := exec.Command(bin, d.path)
	var out bytes.Buffer
	cmd.Stderr = &out
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err == nil || !strings.Contains(out.String(), "address already in use") {
		t.Errorf("second switch on %s: %v\n%s", d.path, err, out.String())
	}
	d.stop(t)
}

// BenchmarkBulkThroughDaemon: one-way bulk TCP, MB/s, between two stacks
// of this process whose frames cross a gonetif-switch process.
//
//	go test ./cmd/gonetif-switch -run '^$' -bench . -benchtime 3s
func BenchmarkBulkThroughDaemon(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "gonetif-switch")
	if out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	path := filepath.Join(b.TempDir(), "lan.sock")
	cmd := exec.Command(bin, "-quiet", path)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	pid := cmd.Process.Pid
	b.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		_ = cmd.Wait()
	})
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("unixpacket", path); err == nil {
			c.Close()
			break
		}
		if time.Now().After(end) {
			b.Fatal("switch not listening")
		}
	}
	ca, err := vlan.Dial(path, vlan.ClientOptions{MAC: mac(1)})
	if err != nil {
		b.Fatal(err)
	}
	cb, err := vlan.Dial(path, vlan.ClientOptions{MAC: mac(2)})
	if err != nil {
		b.Fatal(err)
	}
	lantest.BulkSend(b, ca, cb, 7600)
	b.ReportMetric(float64(ca.TxDropped()+cb.TxDropped()), "txdrops")
}

// TestGatewayThroughDaemon: with -gateway, two stacks that join the
// daemon lease distinct addresses, reach a TCP echo on the host's
// loopback through 10.0.2.2, reach each other, and the daemon's host
// port forward reaches the first of them.
func TestGatewayThroughDaemon(t *testing.T) {
	echo := lantest.HostEcho(t)
	d := start(t, build(t), "-gateway", "-hostfwd", "tcp::0-:80")
	fwd := regexp.MustCompile(`forward tcp (127\.0\.0\.1:\d+) to 10\.0\.2\.15:80`).FindStringSubmatch(d.log())
	if fwd == nil {
		t.Fatalf("no forward in the log:\n%s", d.log())
	}
	a, addrA := lantest.DHCPStack(t, "A", dial(t, d.path, 1))
	b, addrB := lantest.DHCPStack(t, "B", dial(t, d.path, 2))
	if addrA != netip.MustParseAddr("10.0.2.15") || addrB != netip.MustParseAddr("10.0.2.16") {
		t.Fatalf("leases %v, %v; want 10.0.2.15, 10.0.2.16", addrA, addrB)
	}
	host := netip.AddrPortFrom(netip.MustParseAddr("10.0.2.2"), uint16(echo.Addr().(*net.TCPAddr).Port))
	for i, s := range []*gonetif.Stack{a, b} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := s.DialTCP(ctx, host)
		cancel()
		if err != nil {
			t.Fatalf("device %d to %v: %v", i, host, err)
		}
		msg := fmt.Sprintf("device %d via the gateway", i)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = c.Write([]byte(msg))
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
			t.Fatalf("device %d: echo %q, %v", i, got, err)
		}
		c.Close()
	}
	lantest.TCPEcho(t, a, b, addrB, 8101, 1<<20)
	lantest.UDPEcho(t, b, a, addrA, 8102)

	ln, err := a.ListenTCP(netip.AddrPortFrom(netip.IPv4Unspecified(), 80))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			_, _ = c.Write([]byte("device A here"))
			c.Close()
		}
	}()
	hc, err := net.DialTimeout("tcp4", fwd[1], 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = hc.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(hc)
	hc.Close()
	if err != nil || string(got) != "device A here" {
		t.Fatalf("forward %s: %q, %v", fwd[1], got, err)
	}
	d.stop(t)
}

func TestDaemonBadGatewayFlags(t *testing.T) {
	bin := build(t)
	path := filepath.Join(t.TempDir(), "lan.sock")
	for _, args := range [][]string{
		{"-net", "10.1.0.0/24", path},                        // needs -gateway
		{"-hostfwd", "tcp::8080-:80", path},                  // needs -gateway
		{"-gateway", "-net", "10.1.0.0", path},               // not a prefix
		{"-gateway", "-net", "fd00::/64", path},              // not IPv4
		{"-gateway", "-net", "10.1.0.0/30", path},            // too small
		{"-gateway", "-hostfwd", "tcp:8080", path},           // malformed
		{"-gateway", "-hostfwd", "tcp::0-10.9.9.9:80", path}, // device off the network
		{"-gateway", "-mtu", "100", path},                    // too small for the gateway
	} {
		cmd := exec.Command(bin, args...)
		var out bytes.Buffer
		cmd.Stderr = &out
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(out.String(), "usage") && !strings.Contains(out.String(), "invalid") {
			t.Errorf("%v: %v, want exit 2 with a reason\n%s", args, err, out.String())
		}
		if _, err := os.Lstat(path); !os.IsNotExist(err) {
			t.Errorf("%v: socket file made: %v", args, err)
		}
	}
	// A forward on a host port that is taken: exit 1, no socket.
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cmd := exec.Command(bin, "-gateway", "-hostfwd", "tcp:"+taken.Addr().String()+"-:80", path)
	var out bytes.Buffer
	cmd.Stderr = &out
	if err := cmd.Run(); err == nil || !strings.Contains(out.String(), "host port already in use") {
		t.Errorf("taken host port: %v\n%s", err, out.String())
	}
}
