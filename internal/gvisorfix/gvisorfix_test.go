package gvisorfix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The edit applies to the gVisor that go.mod pins, exactly once, and the
// overlay names the module cache's file.
func TestGeneratePinned(t *testing.T) {
	out := t.TempDir()
	flags, err := Generate(".", out)
	if err != nil {
		t.Fatal(err)
	}
	if flags != Flags(out) {
		t.Fatalf("flags %q", flags)
	}
	overlay := filepath.Join(out, "overlay.json")
	mod, err := os.ReadFile(filepath.Join(out, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(mod, []byte("replace "+Module+" => "+filepath.Join(out, "gvisor")+"\n")) {
		t.Fatalf("go.mod without the replacement:\n%s", mod)
	}
	js, err := os.ReadFile(overlay)
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ Replace map[string]string }
	if err := json.Unmarshal(js, &o); err != nil {
		t.Fatal(err)
	}
	files := Files()
	if len(o.Replace) != len(files)+len(NewFiles) {
		t.Fatalf("overlay replaces %d files, %d edited and %d added: %s", len(o.Replace), len(files), len(NewFiles), js)
	}
	// Each edit's changed lines, original and patched, by file: the
	// lines of its anchor that its replacement changes.
	want := map[string][][2]string{}
	for _, e := range Edits {
		a, b := strings.Split(e.Anchor, "\n"), strings.Split(e.Replacement, "\n")
		for i := range a {
			if a[i] != b[i] {
				want[e.File] = append(want[e.File], [2]string{a[i], b[i]})
			}
		}
	}
	for _, f := range files {
		orig := filepath.Join(out, "gvisor", filepath.FromSlash(f))
		repl, ok := o.Replace[orig]
		if !ok || !filepath.IsAbs(orig) || !filepath.IsAbs(repl) {
			t.Fatalf("overlay lacks %s: %s", orig, js)
		}
		src, err := os.ReadFile(orig)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(repl)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(src, []byte(Marker)) || !bytes.Contains(got, []byte(Marker)) {
			t.Fatalf("%s: marker in the original or not in the patched file", f)
		}
		if bytes.Count(src, []byte("\n")) != bytes.Count(got, []byte("\n")) {
			t.Fatalf("%s: the patch changed the line count", f)
		}
		// Only the edited lines differ, each as an edit says.
		a, b := bytes.Split(src, []byte("\n")), bytes.Split(got, []byte("\n"))
		var diff [][2]string
		for i := range a {
			if !bytes.Equal(a[i], b[i]) {
				diff = append(diff, [2]string{string(a[i]), string(b[i])})
			}
		}
		w := want[f]
		if len(diff) != len(w) {
			t.Fatalf("%s: %d lines differ, want %d: %q", f, len(diff), len(w), diff)
		}
		for _, d := range diff {
			found := false
			for _, x := range w {
				found = found || x == d
			}
			// A changed line carries the marker, or is emptied (an
			// edit that removes a line keeps the count with a blank).
			if !found || (d[1] != "" && !strings.Contains(d[1], Marker)) {
				t.Fatalf("%s: %q -> %q is no edit's line with the marker", f, d[0], d[1])
			}
		}
		// Applying the edits again to the patched file is refused.
		if _, err := Patch(f, got); !errors.Is(err, ErrAnchor) {
			t.Fatalf("%s: patching twice: %v, want ErrAnchor", f, err)
		}
	}
	// Each added file is in the overlay as this package holds it, at a
	// path gVisor does not have.
	for _, f := range NewFiles {
		orig := filepath.Join(out, "gvisor", filepath.FromSlash(f.File))
		repl, ok := o.Replace[orig]
		if !ok {
			t.Fatalf("overlay lacks the new %s: %s", orig, js)
		}
		if _, err := os.Stat(orig); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: in gVisor already (%v)", f.File, err)
		}
		got, err := os.ReadFile(repl)
		if err != nil {
			t.Fatal(err)
		}
		src, err := Added(f)
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("%s: written file differs from the source (%v)", f.File, err)
		}
	}
	// A second run leaves identical files alone.
	st, _ := os.Stat(overlay)
	if _, err := Generate(".", out); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(overlay); !st2.ModTime().Equal(st.ModTime()) {
		t.Fatal("overlay rewritten though unchanged")
	}
}

// A gVisor without the text, or with it twice, or already patched, is
// refused, for every edit.
func TestPatchRefusesChangedSource(t *testing.T) {
	for _, e := range Edits {
		body := func(parts ...string) []byte {
			return []byte("package tcp\nfunc f() {\n\tif x {\n\t\tif y {\n" + strings.Join(parts, "") + "}}}}}}}\n")
		}
		for name, src := range map[string][]byte{
			"missing": []byte("package tcp\n"),
			"twice":   body(e.Anchor, e.Anchor),
			"patched": body(e.Replacement),
		} {
			if _, err := Patch(e.File, src); !errors.Is(err, ErrAnchor) {
				t.Errorf("%s %s: err %v, want ErrAnchor", e.File, name, err)
			}
		}
		// The anchor alone, in a file that parses, is accepted.
		if e.File == "pkg/tcpip/transport/tcp/connect.go" {
			src := []byte("package tcp\nfunc f() {\n\tif x {\n" + e.Anchor + "\t\t})\n\t}\n}\n")
			got, err := Patch(e.File, src)
			if err != nil || !bytes.Contains(got, []byte(Marker)) {
				t.Errorf("%s: the anchor alone: %v", e.File, err)
			}
		}
	}
	if _, err := Patch("pkg/tcpip/transport/tcp/rcv.go", []byte("package tcp\n")); err == nil {
		t.Error("a file without edits was patched")
	}
}

// An edit that would change the line count is refused.
func TestPatchKeepsLines(t *testing.T) {
	e := []Edit{{File: "a.go", Anchor: "x := 1\n", Replacement: "x := 1\n_ = x\n"}}
	if _, err := patch(e, "a.go", []byte("package a\nfunc f() {\nx := 1\n}\n")); err == nil {
		t.Error("an edit adding a line was applied")
	}
}

// A new file must parse, be of its directory's package and carry the
// marker; one that gVisor already has is refused.
func TestNewFiles(t *testing.T) {
	good := []byte("// " + Marker + " x\n\npackage ports\n\nvar x = 1\n")
	if err := checkNewFile("pkg/tcpip/ports/a.go", good); err != nil {
		t.Fatalf("good file refused: %v", err)
	}
	for name, src := range map[string][]byte{
		"other package": []byte("// " + Marker + " x\n\npackage tcp\n"),
		"no marker":     []byte("// x\n\npackage ports\n"),
		"no parse":      []byte("// " + Marker + " x\n\npackage ports\n\nvar = \n"),
	} {
		if err := checkNewFile("pkg/tcpip/ports/a.go", src); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, f := range NewFiles {
		if _, err := Added(f); err != nil {
			t.Errorf("%s: %v", f.File, err)
		}
	}
	mod, out := t.TempDir(), t.TempDir()
	files := []NewFile{{File: "pkg/a/new.go"}}
	src := func(NewFile) ([]byte, error) { return []byte("// " + Marker + "\n\npackage a\n"), nil }
	repl := map[string]string{}
	if err := addNewFiles(mod, "/link", out, files, src, repl); err != nil {
		t.Fatal(err)
	}
	if dst := repl["/link/pkg/a/new.go"]; dst != filepath.Join(out, "src", "pkg", "a", "new.go") {
		t.Fatalf("overlay entry %q", repl)
	}
	os.MkdirAll(filepath.Join(mod, "pkg", "a"), 0o755)
	os.WriteFile(filepath.Join(mod, "pkg", "a", "new.go"), []byte("package a\n"), 0o644)
	if err := addNewFiles(mod, "/link", out, files, src, map[string]string{}); !errors.Is(err, ErrExists) {
		t.Fatalf("a file gVisor has: %v, want ErrExists", err)
	}
}

// The port reservations' edits change no answer of the PortManager: a
// program driving it with 20 000 random reservations, tuple reservations
// and releases (ports colliding, running out, reuse flags, devices,
// wildcard addresses and destinations, two networks at once) prints the
// same answers built with the overlay and without. With it, an
// ephemeral TCP reservation holds a sixth of the heap.
func TestPortsOverlayUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gVisor's ports package twice")
	}
	flags, err := Generate(".", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := func(goflags string) (trace []string, perRes int) {
		cmd := exec.Command("go", "run", "./testdata/portsdiff")
		cmd.Env = append(goEnv(), "GOFLAGS="+goflags)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("portsdiff (GOFLAGS=%q): %v", goflags, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		last := lines[len(lines)-1]
		n, err := fmt.Sscanf(last, "bytes per ephemeral reservation %d", &perRes)
		if n != 1 || err != nil {
			t.Fatalf("portsdiff's last line %q", last)
		}
		return lines[:len(lines)-1], perRes
	}
	with, memWith := run(flags)
	without, memWithout := run("")
	if len(with) != 20000 || len(without) != len(with) {
		t.Fatalf("%d and %d answers, want 20000", len(with), len(without))
	}
	for i := range with {
		if with[i] != without[i] {
			t.Fatalf("answer %d differs:\nwith the overlay    %s\nwithout the overlay %s", i, with[i], without[i])
		}
	}
	t.Logf("heap per ephemeral reservation: %d bytes with the overlay, %d without", memWith, memWithout)
	if memWith > 400 || memWithout < 2*memWith {
		t.Errorf("heap per ephemeral reservation %d bytes with the overlay, %d without: want at most 400 and under half", memWith, memWithout)
	}
}

// The demuxer's edits (an endpoint table that keeps its first NIC
// inline) change no delivery: a program opening, binding (to a device or
// none, with reuse flags), connecting and closing UDP endpoints on a
// three-NIC stack and injecting datagrams on every NIC prints the same
// 6 000 answers (which endpoint got each datagram, which bind failed)
// built with the overlay and without.
func TestDemuxOverlayUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gVisor's stack package twice")
	}
	flags, err := Generate(".", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := func(goflags string) (trace []string, perEP int) {
		cmd := exec.Command("go", "run", "./testdata/demuxdiff")
		cmd.Env = append(goEnv(), "GOFLAGS="+goflags)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("demuxdiff (GOFLAGS=%q): %v", goflags, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		last := lines[len(lines)-1]
		if n, err := fmt.Sscanf(last, "bytes per connected endpoint %d", &perEP); n != 1 || err != nil {
			t.Fatalf("demuxdiff's last line %q", last)
		}
		return lines[:len(lines)-1], perEP
	}
	with, memWith := run(flags)
	without, memWithout := run("")
	if len(with) != 6000 || len(without) != len(with) {
		t.Fatalf("%d and %d answers, want 6000", len(with), len(without))
	}
	delivered := 0
	for i := range with {
		if with[i] != without[i] {
			t.Fatalf("answer %d differs:\nwith the overlay    %s\nwithout the overlay %s", i, with[i], without[i])
		}
		if strings.Contains(with[i], ":op") {
			delivered++
		}
	}
	if delivered < 1000 {
		t.Fatalf("only %d datagrams delivered: the trace tests little", delivered)
	}
	t.Logf("%d datagrams delivered alike; heap per connected UDP endpoint %d bytes with the overlay, %d without (ports and demuxer)", delivered, memWith, memWithout)
}
