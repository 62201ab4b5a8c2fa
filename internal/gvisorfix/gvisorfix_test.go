package gvisorfix

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
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
	if len(o.Replace) != 1 {
		t.Fatalf("overlay replaces %d files, want 1: %s", len(o.Replace), js)
	}
	for orig, repl := range o.Replace {
		if !filepath.IsAbs(orig) || !filepath.IsAbs(repl) || filepath.ToSlash(orig)[len(orig)-len(File):] != File {
			t.Fatalf("overlay %q -> %q", orig, repl)
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
			t.Fatal("marker in the original or not in the patched file")
		}
		if bytes.Count(src, []byte("\n")) != bytes.Count(got, []byte("\n")) {
			t.Fatal("the patch changed the line count")
		}
		// Only the one line differs.
		a, b := bytes.Split(src, []byte("\n")), bytes.Split(got, []byte("\n"))
		diff := 0
		for i := range a {
			if !bytes.Equal(a[i], b[i]) {
				diff++
				if !bytes.Contains(a[i], []byte("s.Outstanding > 0")) || !bytes.Contains(b[i], []byte("s.SndUna != s.SndNxt")) {
					t.Fatalf("line %d: %q -> %q", i+1, a[i], b[i])
				}
			}
		}
		if diff != 1 {
			t.Fatalf("%d lines differ, want 1", diff)
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

// A gVisor without the text, or with it twice, is refused.
func TestPatchRefusesChangedSource(t *testing.T) {
	for name, src := range map[string][]byte{
		"missing": []byte("package tcp\n"),
		"twice":   append(append([]byte("package tcp\nfunc f() {\n\tif x {\n\t\t"), bytes.Repeat(anchor, 2)...), []byte("}}}}}\n")...),
		"patched": append([]byte("package tcp\n"), fixed...),
	} {
		if _, err := Patch(src); !errors.Is(err, ErrAnchor) {
			t.Errorf("%s: err %v, want ErrAnchor", name, err)
		}
	}
}
