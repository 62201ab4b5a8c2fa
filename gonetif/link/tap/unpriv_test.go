package tap_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gonetif.dev/gonetif/internal/netnstest"
	"gonetif.dev/gonetif/link/tap"
)

// The unprivileged tests re-execute this test binary as another user; in
// that child TestMain runs childMain instead of the tests.
const (
	envChild  = "GONETIF_TAP_CHILD"  // TAP name to open
	envDevice = "GONETIF_TAP_DEVICE" // clone device path
)

func TestMain(m *testing.M) {
	if name := os.Getenv(envChild); name != "" {
		os.Exit(childMain(name, os.Getenv(envDevice)))
	}
	os.Exit(m.Run())
}

// childMain opens the TAP as the current (unprivileged) user, serves
// stackIP on it until stdin closes (at most 30 s), and reports on stdout.
func childMain(name, device string) int {
	ep, err := tap.Open(tap.Options{Name: name, Device: device})
	if err != nil {
		var te *tap.Error
		fmt.Printf("ERR typed=%t perm=%t uid=%d %v\n", errors.As(err, &te),
			errors.Is(err, fs.ErrPermission), os.Getuid(), err)
		return 3
	}
	s := newStack(childTB{}, ep)
	fmt.Printf("READY uid=%d\n", os.Getuid())
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
	s.Destroy()
	return 0
}

// childTB lets newStack run outside a test.
type childTB struct{ testing.TB }

func (childTB) Helper() {}
func (childTB) Fatalf(f string, a ...any) {
	fmt.Printf("ERR "+f+"\n", a...)
	os.Exit(4)
}

// startChild runs a copy of this test binary as uid/gid 1000 inside ns and
// returns its first output line.
func startChild(t *testing.T, ns *netnstest.NS, name string) (line string, stdin io.WriteCloser, cmd *exec.Cmd) {
	t.Helper()
	dir, err := os.MkdirTemp("", "gnt-child-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // the test's own temp dirs are 0700
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "tap.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	// /dev/net/tun is often 0666; where it is not (this lab: 0600), give the
	// child a node of its own so that the test is about TAP ownership only.
	device := tap.DefaultDevice
	if st, err := os.Stat(device); err == nil && st.Mode().Perm()&0o006 != 0o006 {
		device = filepath.Join(dir, "tun")
		if err := unix.Mknod(device, unix.S_IFCHR|0o666, int(unix.Mkdev(10, 200))); err != nil {
			t.Fatalf("mknod %s: %v", device, err)
		}
		if err := os.Chmod(device, 0o666); err != nil {
			t.Fatal(err)
		}
	}

	cmd = exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+name, envDevice+"="+device)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: 1000, Gid: 1000, Groups: []uint32{}},
		Setpgid:    true,
	}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err = cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Forked from a thread inside ns, the child lives in ns.
	if err := ns.Do(cmd.Start); err != nil {
		t.Fatalf("start child: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("child did not exit")
		}
	})
	lines := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- strings.TrimSpace(l)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatalf("child said nothing within 20s")
	}
	return line, stdin, cmd
}

// TestUnprivilegedOwner: uid 1000 opens a TAP that uid 1000 owns, with
// offloads, and the stack in that process answers pings.
func TestUnprivilegedOwner(t *testing.T) {
	ns := netnstest.New(t)
	ns.AddTap(t, tapName, hostCIDR, 1000)
	line, stdin, _ := startChild(t, ns, tapName)
	if !strings.HasPrefix(line, "READY uid=1000") {
		t.Fatalf("child as uid 1000 could not open its own TAP: %s", line)
	}
	waitPing(t, ns, stackIP)
	stdin.Close()
}

// TestUnprivilegedForeign: uid 1000 may not open a TAP owned by 65534.
func TestUnprivilegedForeign(t *testing.T) {
	ns := netnstest.New(t)
	ns.AddTap(t, tapName, hostCIDR, 65534)
	line, _, _ := startChild(t, ns, tapName)
	if !strings.HasPrefix(line, "ERR typed=true perm=true uid=1000") || !strings.Contains(line, "make_tap_netif") {
		t.Fatalf("child as uid 1000 on a TAP of uid 65534: got %q, want a typed EPERM error", line)
	}
	t.Logf("child: %s", line)
}
