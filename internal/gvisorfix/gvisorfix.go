// Package gvisorfix patches one line of the pinned gVisor at build time,
// through the go command's -overlay flag, instead of forking or vendoring
// it.
//
// The bug: after a retransmission timeout gVisor's TCP sender resets its
// count of segments in flight to 0, and later ACKs of data sent before the
// timeout take the count below the truth (clamped at 0). When a tail loss
// probe then fires, the sender re-arms its retransmission timer only if
// that count is above 0, so with data still unacknowledged it can be left
// with no timer at all and never send again. The fix arms the timer
// whenever data is unacknowledged (RFC 6298 5.1), as Linux does.
//
// The go command refuses overlays of files in its module cache, so
// Generate writes, into a build directory: a symlink to the pinned gVisor
// in the module cache, a copy of go.mod that replaces gVisor with that
// symlink (same files, a path outside the cache), the patched snd.go and
// an overlay putting it in place. Builds pass both files: Flags gives
// "-modfile=DIR/go.mod -overlay=DIR/overlay.json" (scripts/test exports it
// in GOFLAGS, CMake passes it to go build). Patch fails when the text it
// edits is not found exactly once, so a gVisor update cannot drop the fix
// silently. Nothing of gVisor is copied: the build reads the module cache.
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

// Module is the module patched; File is the file, relative to its root.
const (
	Module = "gvisor.dev/gvisor"
	File   = "pkg/tcpip/transport/tcp/snd.go"
)

// The edit is anchored on the branch of postXmit that runs when data is
// unacknowledged and neither timer is armed; the condition it guards the
// resend timer with is replaced. The line count stays the same, so line
// numbers in panics still match gVisor's source.
var (
	anchor = []byte("} else if !s.resendTimer.enabled() {\n\t\t\ts.probeTimer.disable()\n\t\t\tif s.Outstanding > 0 {\n")
	fixed  = []byte("} else if !s.resendTimer.enabled() {\n\t\t\ts.probeTimer.disable()\n\t\t\tif s.SndUna != s.SndNxt { // gonetif overlay: a timer whenever data is unacknowledged\n")
)

// Marker is in the patched file only.
const Marker = "gonetif overlay:"

// ErrAnchor is returned when the text to edit is missing or ambiguous.
var ErrAnchor = errors.New("gvisorfix: the edited text of " + File + " was not found exactly once: gVisor changed, check whether the fix is still needed and update internal/gvisorfix")

// Patch returns src with the fix applied.
func Patch(src []byte) ([]byte, error) {
	if n := bytes.Count(src, anchor); n != 1 {
		return nil, fmt.Errorf("%w (found %d times)", ErrAnchor, n)
	}
	out := bytes.Replace(src, anchor, fixed, 1)
	if _, err := parser.ParseFile(token.NewFileSet(), File, out, parser.SkipObjectResolution); err != nil {
		return nil, fmt.Errorf("gvisorfix: patched file does not parse: %w", err)
	}
	return out, nil
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
	src, err := os.ReadFile(filepath.Join(mod, filepath.FromSlash(File)))
	if err != nil {
		return "", fmt.Errorf("gvisorfix: %w", err)
	}
	patched, err := Patch(src)
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
	modfile := filepath.Join(out, "go.mod")
	file := filepath.Join(out, "snd.go")
	for name, data := range map[string][]byte{modfile: gomod, filepath.Join(out, "go.sum"): gosum, file: patched} {
		if err := writeIfChanged(name, data); err != nil {
			return "", err
		}
	}
	repl := map[string]string{filepath.Join(link, filepath.FromSlash(File)): file}
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
