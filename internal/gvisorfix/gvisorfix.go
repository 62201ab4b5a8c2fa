// Package gvisorfix patches a few lines of the pinned gVisor at build
// time, through the go command's -overlay flag, instead of forking or
// vendoring it. Edits lists the changes, each with why it is needed.
//
// The go command refuses overlays of files in its module cache, so
// Generate writes, into a build directory: a symlink to the pinned gVisor
// in the module cache, a copy of go.mod that replaces gVisor with that
// symlink (same files, a path outside the cache), the patched files and
// an overlay putting them in place. Builds pass both files: Flags gives
// "-modfile=DIR/go.mod -overlay=DIR/overlay.json" (scripts/test exports it
// in GOFLAGS, CMake passes it to go build). Patch fails when the text an
// edit replaces is not found exactly once, so a gVisor update cannot drop
// a fix silently. Nothing of gVisor is copied: the build reads the module
// cache.
package gvisorfix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Module is the module patched.
const Module = "gvisor.dev/gvisor"

// Edit replaces Anchor, which must occur exactly once in File (relative
// to the module's root), by Replacement. Replacements keep the line count,
// so line numbers in panics still match gVisor's source.
type Edit struct {
	File        string
	Anchor      string
	Replacement string
	Why         string
}

// Edits are applied in order; several may edit one file.
var Edits = []Edit{
	{
		File: "pkg/tcpip/transport/tcp/snd.go",
		// The branch of postXmit that runs when data is unacknowledged
		// and neither timer is armed; its guard of the resend timer is
		// replaced.
		Anchor:      "} else if !s.resendTimer.enabled() {\n\t\t\ts.probeTimer.disable()\n\t\t\tif s.Outstanding > 0 {\n",
		Replacement: "} else if !s.resendTimer.enabled() {\n\t\t\ts.probeTimer.disable()\n\t\t\tif s.SndUna != s.SndNxt { // gonetif overlay: a timer whenever data is unacknowledged\n",
		Why: "after a retransmission timeout the sender resets its count of segments in flight to 0, and " +
			"later ACKs of data sent before the timeout take the count below the truth (clamped at 0); when a " +
			"tail loss probe then fires, the resend timer is re-armed only if that count is above 0, so with " +
			"data unacknowledged the sender can be left with no timer and never send again. The fix arms it " +
			"whenever data is unacknowledged (RFC 6298 5.1), as Linux does.",
	},
	{
		File: "pkg/tcpip/transport/tcp/connect.go",
		// The resend of a SYN or SYN-ACK in retransmitHandlerLocked; the
		// refresh goes on the line of the call.
		Anchor:      "\t\te.sendSynTCP(e.route, tcpFields{\n\t\t\tid:        e.TransportEndpointInfo.ID,\n",
		Replacement: "\t\th.sendSYNOpts.TSVal = e.tsValNow(); e.sendSynTCP(e.route, tcpFields{ // gonetif overlay: a fresh TSval on each resent SYN\n\t\t\tid:        e.TransportEndpointInfo.ID,\n",
		Why: "a retransmitted SYN or SYN-ACK carried the first one's cached TSval; the peer echoes it and the " +
			"connection's first RTT sample spans the whole SYN back-off (about 1 s), leaving an RTO of about " +
			"3 s that shrinks only slowly, so any early timeout costs seconds. Linux stamps each retransmitted " +
			"SYN afresh; so does the fix.",
	},
	{
		File: "pkg/tcpip/transport/internal/network/endpoint.go",
		// OnRelease of a datagram's packet (UDP, ICMP, raw): the decision
		// to notify writers.
		Anchor:      "\t\t\tsignal := e.hasSendSpaceRLocked()\n\t\t\te.sendBufferSizeInUseMu.Unlock()\n",
		Replacement: "\t\t\tsignal := e.hasSendSpaceRLocked() && e.sendBufferSizeInUse+pktSize >= e.ops.GetSendBufferSize() // gonetif overlay: notify only when the buffer stops being full\n\t\t\te.sendBufferSizeInUseMu.Unlock()\n",
		Why: "every sent datagram, once written, woke the socket's waiters for writability, though only a " +
			"buffer that was full can have a writer waiting for room: one notification per datagram (the " +
			"waiter queue's lock, the socket's wait word bumped, the C side's wake checks) on the send " +
			"path. Linux wakes writers only when the buffer has room and someone sleeps on it; the fix " +
			"notifies when a release takes the buffer from full to not full.",
	},
	{
		File: "pkg/tcpip/network/ipv4/ipv4.go",
		// writePacket's OUTPUT hook.
		Anchor:      "\toutNicName := stk.FindNICNameFromID(e.nic.ID())\n\tif ok := stk.IPTables().CheckOutput(pkt, r, outNicName); !ok {\n",
		Replacement: "\toutNicName := e.nic.Name() // gonetif overlay: the endpoint's own NIC, no stack lock\n\tif ok := stk.IPTables().CheckOutput(pkt, r, outNicName); !ok {\n",
		Why:         nicNameWhy,
	},
	{
		File: "pkg/tcpip/network/ipv4/ipv4.go",
		// writePacketPostRouting's POSTROUTING hook.
		Anchor:      "\toutNicName := stk.FindNICNameFromID(e.nic.ID())\n\tif ok := stk.IPTables().CheckPostrouting(pkt, r, e, outNicName); !ok {\n",
		Replacement: "\toutNicName := e.nic.Name() // gonetif overlay: the endpoint's own NIC, no stack lock\n\tif ok := stk.IPTables().CheckPostrouting(pkt, r, e, outNicName); !ok {\n",
		Why:         nicNameWhy,
	},
	{
		File:        "pkg/tcpip/network/ipv6/ipv6.go",
		Anchor:      "\toutNicName := stk.FindNICNameFromID(e.nic.ID())\n\tif ok := stk.IPTables().CheckOutput(pkt, r, outNicName); !ok {\n",
		Replacement: "\toutNicName := e.nic.Name() // gonetif overlay: the endpoint's own NIC, no stack lock\n\tif ok := stk.IPTables().CheckOutput(pkt, r, outNicName); !ok {\n",
		Why:         nicNameWhy,
	},
	{
		File:        "pkg/tcpip/network/ipv6/ipv6.go",
		Anchor:      "\toutNicName := stk.FindNICNameFromID(e.nic.ID())\n\tif ok := stk.IPTables().CheckPostrouting(pkt, r, e, outNicName); !ok {\n",
		Replacement: "\toutNicName := e.nic.Name() // gonetif overlay: the endpoint's own NIC, no stack lock\n\tif ok := stk.IPTables().CheckPostrouting(pkt, r, e, outNicName); !ok {\n",
		Why:         nicNameWhy,
	},
}

// nicNameWhy is the reason of the edits that name the outgoing NIC.
const nicNameWhy = "each locally sent packet looked up its own NIC's name twice (iptables OUTPUT and " +
	"POSTROUTING) through the stack's global lock and NIC map, though the network endpoint holds that " +
	"NIC: two lock round trips per packet on the send path, shared with every other sender. A NIC's " +
	"name is fixed when it is created, so the endpoint asks its NIC."

// Marker is in the patched files only.
const Marker = "gonetif overlay:"

// ErrAnchor is returned when the text an edit replaces is missing or
// ambiguous.
var ErrAnchor = errors.New("gvisorfix: the edited text was not found exactly once: gVisor changed, check whether the fix is still needed and update internal/gvisorfix")

// Patch returns src, the contents of file, with every edit of that file
// applied.
func Patch(file string, src []byte) ([]byte, error) {
	return patch(Edits, file, src)
}

func patch(edits []Edit, file string, src []byte) ([]byte, error) {
	out, n := src, 0
	for _, e := range edits {
		if e.File != file {
			continue
		}
		if c := bytes.Count(out, []byte(e.Anchor)); c != 1 {
			return nil, fmt.Errorf("%w (%s, found %d times; the edit: %s)", ErrAnchor, file, c, e.Why)
		}
		if strings.Count(e.Anchor, "\n") != strings.Count(e.Replacement, "\n") {
			return nil, fmt.Errorf("gvisorfix: an edit of %s changes the line count", file)
		}
		out = bytes.Replace(out, []byte(e.Anchor), []byte(e.Replacement), 1)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("gvisorfix: no edit of %s", file)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), file, out, parser.SkipObjectResolution); err != nil {
		return nil, fmt.Errorf("gvisorfix: patched %s does not parse: %w", file, err)
	}
	return out, nil
}

// Files lists the files Edits change, in order of first edit.
func Files() []string {
	var files []string
	for _, e := range Edits {
		if !contains(files, e.File) {
			files = append(files, e.File)
		}
	}
	return files
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ModuleDir returns where the go command keeps the pinned gVisor, after
// downloading it if needed. dir is a directory inside this module. Any
// -overlay or -modfile in GOFLAGS is dropped for these calls: they may not
// exist yet.
func ModuleDir(dir string) (string, error) {
	env := goEnv()
	dl := exec.Command("go", "mod", "download", Module)
	dl.Dir, dl.Env = dir, env
	if out, err := dl.CombinedOutput(); err != nil {
		return "", fmt.Errorf("gvisorfix: go mod download %s: %v: %s", Module, err, out)
	}
	ls := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", Module)
	ls.Dir, ls.Env = dir, env
	out, err := ls.Output()
	if err != nil {
		return "", fmt.Errorf("gvisorfix: go list -m %s: %v", Module, err)
	}
	d := strings.TrimSpace(string(out))
	if d == "" {
		return "", fmt.Errorf("gvisorfix: go list -m %s gave no directory", Module)
	}
	return d, nil
}

func goEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			var keep []string
			for _, f := range strings.Fields(v) {
				if !strings.HasPrefix(strings.TrimPrefix(f, "-"), "-overlay") && !strings.HasPrefix(strings.TrimPrefix(f, "-"), "-modfile") {
					keep = append(keep, f)
				}
			}
			kv = "GOFLAGS=" + strings.Join(keep, " ")
		}
		env = append(env, kv)
	}
	return env
}

// Generate patches the pinned gVisor of the module in dir and writes the
// files described above into out; it returns the flags to build with.
func Generate(dir, out string) (string, error) {
	mod, err := ModuleDir(dir)
	if err != nil {
		return "", err
	}
	if out, err = filepath.Abs(out); err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("gvisorfix: %w", err)
	}
	link := filepath.Join(out, "gvisor")
	if old, err := os.Readlink(link); err != nil || old != mod {
		os.Remove(link)
		if err := os.Symlink(mod, link); err != nil {
			return "", fmt.Errorf("gvisorfix: %w", err)
		}
	}
	env := exec.Command("go", "env", "GOMOD")
	env.Dir, env.Env = dir, goEnv()
	where, err := env.Output()
	if err != nil || !filepath.IsAbs(strings.TrimSpace(string(where))) {
		return "", fmt.Errorf("gvisorfix: no go.mod for %s (%v)", dir, err)
	}
	root := filepath.Dir(strings.TrimSpace(string(where)))
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("gvisorfix: %w", err)
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return "", fmt.Errorf("gvisorfix: %w", err)
	}
	gomod = fmt.Appendf(gomod, "\n// Written by internal/gvisorfix: the pinned gVisor, through a path the\n// overlay may patch.\nreplace %s => %s\n", Module, link)
	for name, data := range map[string][]byte{"go.mod": gomod, "go.sum": gosum} {
		if err := writeIfChanged(filepath.Join(out, name), data); err != nil {
			return "", err
		}
	}
	// Patched files go under src/ by their path in gVisor: two files of
	// one name cannot collide.
	repl := map[string]string{}
	for _, f := range Files() {
		src, err := os.ReadFile(filepath.Join(mod, filepath.FromSlash(f)))
		if err != nil {
			return "", fmt.Errorf("gvisorfix: %w", err)
		}
		patched, err := Patch(f, src)
		if err != nil {
			return "", err
		}
		dst := filepath.Join(out, "src", filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", fmt.Errorf("gvisorfix: %w", err)
		}
		if err := writeIfChanged(dst, patched); err != nil {
			return "", err
		}
		repl[filepath.Join(link, filepath.FromSlash(f))] = dst
	}
	js, err := json.MarshalIndent(struct{ Replace map[string]string }{repl}, "", "\t")
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(out, "overlay.json")
	if err := writeIfChanged(overlay, append(js, '\n')); err != nil {
		return "", err
	}
	return Flags(out), nil
}

// Flags returns the go command flags that build with the files Generate
// wrote into out (an absolute path).
func Flags(out string) string {
	return "-modfile=" + filepath.Join(out, "go.mod") + " -overlay=" + filepath.Join(out, "overlay.json")
}

// writeIfChanged leaves an identical file alone, so make-style builds that
// depend on it are not redone.
func writeIfChanged(name string, data []byte) error {
	if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("gvisorfix: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("gvisorfix: %w", err)
	}
	return nil
}
