package netnstest_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gonetif.dev/gonetif/internal/netnstest"
)

func TestNamespaceLifecycle(t *testing.T) {
	netnstest.Require(t)
	var name string
	var pid int
	t.Run("inner", func(t *testing.T) {
		ns := netnstest.New(t)
		name = ns.Name
		if !strings.HasPrefix(ns.Name, "gnt-") || ns.Path != "/var/run/netns/"+ns.Name {
			t.Fatalf("bad names %q %q", ns.Name, ns.Path)
		}
		ns.AddTap(t, "gnt0", "10.66.0.1/24", 1000)
		if out := ns.Exec(t, "ip", "-o", "addr", "show", "dev", "gnt0"); !strings.Contains(out, "10.66.0.1/24") {
			t.Fatalf("address missing:\n%s", out)
		}
		cmd := ns.Start(t, "sleep", "60")
		pid = cmd.Process.Pid

		// Do switches this thread only, and back.
		var inside string
		if err := ns.Do(func() error {
			b, err := os.Readlink("/proc/thread-self/ns/net")
			inside = b
			return err
		}); err != nil {
			t.Fatal(err)
		}
		outside, _ := os.Readlink("/proc/thread-self/ns/net")
		if inside == outside {
			t.Fatalf("Do did not switch namespace (%s)", inside)
		}
	})
	// Cleanup killed the process and deleted the namespace.
	if !netnstest.WaitFor(5*time.Second, 20*time.Millisecond, func() bool {
		return unix.Kill(pid, 0) != nil
	}) {
		t.Errorf("process %d survived cleanup", pid)
	}
	if _, err := os.Stat("/var/run/netns/" + name); err == nil {
		t.Errorf("namespace %s survived cleanup", name)
	}
}
