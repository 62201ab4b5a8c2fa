// Package netnstest gives privileged tests a throwaway network namespace
// with real TAP devices and real kernel peers.
//
// Every helper bounds its waits, and everything a test creates (namespace,
// processes started in it) is removed by t.Cleanup.
package netnstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// EnvRequire is the variable that turns a missing privilege into a failure
// (CI sets it so privileged tests can never be skipped silently).
const EnvRequire = "GONETIF_REQUIRE_PRIV"

// cmdTimeout bounds every foreground command a helper runs.
const cmdTimeout = 60 * time.Second

var (
	privOnce   sync.Once
	privReason string
)

// probe reports why netns+TAP tests cannot run here, or "" when they can.
func probe() string {
	if os.Geteuid() != 0 {
		return fmt.Sprintf("not root (euid %d)", os.Geteuid())
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Sprintf("cannot open /dev/net/tun: %v", err)
	}
	unix.Close(fd)
	if _, err := exec.LookPath("ip"); err != nil {
		return "iproute2's ip command not found"
	}
	if err := os.MkdirAll("/var/run/netns", 0o755); err != nil {
		return fmt.Sprintf("cannot create /var/run/netns: %v", err)
	}
	return ""
}

// Require returns normally when the test may use netns+TAP (root and
// /dev/net/tun usable). Otherwise it fails the test when GONETIF_REQUIRE_PRIV=1
// and skips it with the reason when not.
func Require(t testing.TB) {
	t.Helper()
	privOnce.Do(func() { privReason = probe() })
	if privReason == "" {
		return
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("privileged test cannot run (%s) but %s=1", privReason, EnvRequire)
	}
	t.Skipf("needs root and /dev/net/tun: run as root or in CI (%s)", privReason)
}

// NS is a network namespace created for one test.
type NS struct {
	Name string // e.g. gnt-1a2b3c4d
	Path string // /var/run/netns/<Name>

	mu    sync.Mutex
	procs []*proc
}

type proc struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// lockedBuffer collects a background command's output; written by os/exec's
// copier goroutine and read at cleanup.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 { // keep logs short
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// New creates a uniquely named namespace with lo up; t.Cleanup kills the
// processes started in it and deletes it.
func New(t testing.TB) *NS {
	t.Helper()
	Require(t)
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatalf("random: %v", err)
	}
	name := "gnt-" + hex.EncodeToString(rnd[:])
	ns := &NS{Name: name, Path: "/var/run/netns/" + name}
	if out, err := run("ip", "netns", "add", name); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() { ns.cleanup(t) })
	ns.Exec(t, "ip", "link", "set", "lo", "up")
	return ns
}

func run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	return string(out), err
}

// cleanup kills what we started (by process group), then any process still
// in the namespace (all of them were started by this test), then deletes it.
func (ns *NS) cleanup(t testing.TB) {
	ns.mu.Lock()
	procs := ns.procs
	ns.procs = nil
	ns.mu.Unlock()
	for _, p := range procs {
		if p.cmd.Process != nil {
			_ = unix.Kill(-p.cmd.Process.Pid, unix.SIGKILL)
			_ = p.cmd.Process.Kill()
		}
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			t.Logf("netnstest: %v did not exit within 5s of SIGKILL", p.cmd.Args)
		}
		if t.Failed() {
			if out := p.out.String(); out != "" {
				t.Logf("netnstest: output of %v:\n%s", p.cmd.Args, out)
			}
		}
	}
	for i := 0; i < 3; i++ {
		out, err := run("ip", "netns", "pids", ns.Name)
		if err != nil || strings.TrimSpace(out) == "" {
			break
		}
		for _, f := range strings.Fields(out) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				_ = unix.Kill(pid, unix.SIGKILL)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, err := run("ip", "netns", "delete", ns.Name); err != nil {
		t.Errorf("ip netns delete %s: %v\n%s", ns.Name, err, out)
	}
}

// AddTap creates a persistent TAP owned by ownerUID inside the namespace
// (ownerUID < 0: no owner), gives the host side hostCIDR when not empty and
// sets the link up.
func (ns *NS) AddTap(t testing.TB, name, hostCIDR string, ownerUID int) {
	t.Helper()
	args := []string{"ip", "tuntap", "add", "dev", name, "mode", "tap"}
	if ownerUID >= 0 {
		args = append(args, "user", strconv.Itoa(ownerUID))
	}
	ns.Exec(t, args...)
	if hostCIDR != "" {
		ns.Exec(t, "ip", "addr", "add", hostCIDR, "dev", name)
	}
	ns.Exec(t, "ip", "link", "set", name, "up")
}

// Exec runs args inside the namespace and returns the combined output; the
// test fails with that output when the command fails.
func (ns *NS) Exec(t testing.TB, args ...string) string {
	t.Helper()
	out, err := ns.Run(args...)
	if err != nil {
		t.Fatalf("ip netns exec %s %s: %v\n%s", ns.Name, strings.Join(args, " "), err, out)
	}
	return out
}

// Run is Exec without failing the test: for commands expected to fail or
// retried in a bounded loop.
func (ns *NS) Run(args ...string) (string, error) {
	return run(append([]string{"ip", "netns", "exec", ns.Name}, args...)...)
}

// Start runs args in the background inside the namespace, in its own process
// group; the group is killed at cleanup and its output logged if the test
// failed.
func (ns *NS) Start(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.Name}, args...)...)
	out := &lockedBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", args, err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	// Our own reaper, so that cleanup never depends on the test calling Wait.
	go func() {
		defer close(p.done)
		_, _ = cmd.Process.Wait()
	}()
	ns.mu.Lock()
	ns.procs = append(ns.procs, p)
	ns.mu.Unlock()
	return cmd
}

// Wait waits up to timeout for a command from Start to exit and returns its
// output so far; ok is false on timeout.
func (ns *NS) Wait(cmd *exec.Cmd, timeout time.Duration) (output string, ok bool) {
	ns.mu.Lock()
	var p *proc
	for _, q := range ns.procs {
		if q.cmd == cmd {
			p = q
		}
	}
	ns.mu.Unlock()
	if p == nil {
		return "", false
	}
	select {
	case <-p.done:
		return p.out.String(), true
	case <-time.After(timeout):
		return p.out.String(), false
	}
}

// Output returns what a command from Start has printed so far.
func (ns *NS) Output(cmd *exec.Cmd) string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, p := range ns.procs {
		if p.cmd == cmd {
			return p.out.String()
		}
	}
	return ""
}

// Do runs fn on a locked OS thread switched into the namespace and switches
// back after. fn must not rely on goroutines it starts being in the namespace.
// Processes forked inside fn inherit the namespace.
func (ns *NS) Do(fn func() error) error {
	return DoIn(ns.Path, fn)
}

// DoIn is Do for any namespace path.
func DoIn(path string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netnstest: open current netns: %w", err)
	}
	defer unix.Close(orig)
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netnstest: open %s: %w", path, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netnstest: setns %s: %w", path, err)
	}
	ferr := fn()
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: Go discards it when this goroutine ends
		// rather than reuse a thread in the wrong namespace.
		return errors.Join(ferr, fmt.Errorf("netnstest: setns back: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// WaitFor polls cond every interval until it returns true or timeout passes;
// it reports whether cond became true. The loop is bounded by both.
func WaitFor(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for i := 0; ; i++ {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || i > 100000 {
			return false
		}
		time.Sleep(interval)
	}
}
