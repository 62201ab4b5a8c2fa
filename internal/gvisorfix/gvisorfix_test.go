package gvisorfix

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
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
	if len(files) != 5 || len(o.Replace) != len(files) {
		t.Fatalf("overlay replaces %d files, %d edited, want 5: %s", len(o.Replace), len(files), js)
	}
	// Each edit's lines, original and patched, by file.
	want := map[string][][2]string{
		"pkg/tcpip/transport/tcp/snd.go":     {{"if s.Outstanding > 0 {", "if s.SndUna != s.SndNxt {"}},
		"pkg/tcpip/transport/tcp/connect.go": {{"\t\te.sendSynTCP(e.route, tcpFields{", "\t\th.sendSYNOpts.TSVal = e.tsValNow(); e.sendSynTCP(e.route, tcpFields{"}},
		"pkg/tcpip/transport/internal/network/endpoint.go": {{"signal := e.hasSendSpaceRLocked()",
			"signal := e.hasSendSpaceRLocked() && e.sendBufferSizeInUse+pktSize >= e.ops.GetSendBufferSize()"}},
		"pkg/tcpip/network/ipv4/ipv4.go": {
			{"outNicName := stk.FindNICNameFromID(e.nic.ID())", "outNicName := e.nic.Name()"},
			{"outNicName := stk.FindNICNameFromID(e.nic.ID())", "outNicName := e.nic.Name()"}},
		"pkg/tcpip/network/ipv6/ipv6.go": {
			{"outNicName := stk.FindNICNameFromID(e.nic.ID())", "outNicName := e.nic.Name()"},
			{"outNicName := stk.FindNICNameFromID(e.nic.ID())", "outNicName := e.nic.Name()"}},
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
		// Only the edited lines differ, each as expected.
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
		for i := range w {
			if !strings.Contains(diff[i][0], w[i][0]) || !strings.HasPrefix(strings.TrimLeft(diff[i][1], "\t"), strings.TrimLeft(w[i][1], "\t")) {
				t.Fatalf("%s: %q -> %q, want %q -> %q", f, diff[i][0], diff[i][1], w[i][0], w[i][1])
			}
		}
		// Applying the edits again to the patched file is refused.
		if _, err := Patch(f, got); !errors.Is(err, ErrAnchor) {
			t.Fatalf("%s: patching twice: %v, want ErrAnchor", f, err)
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
