package config

import (
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's configuration table from Table")

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestEveryBadValueIsAnError(t *testing.T) {
	for _, s := range Table {
		bad := BadValues(s)
		if len(bad) == 0 {
			t.Fatalf("%s: no value is bad; give a free-text setting a Check", s.Name)
		}
		for _, bad := range bad {
			v, err := Load(env(map[string]string{s.Name: bad}))
			var ce *Error
			if !errors.As(err, &ce) || ce.Name != s.Name {
				t.Errorf("%s=%q: accepted (err %v)", s.Name, bad, err)
				continue
			}
			if !strings.Contains(err.Error(), s.Name) || !strings.Contains(err.Error(), "want ") {
				t.Errorf("%s=%q: message %q does not say which setting and what it wants", s.Name, bad, err)
			}
			if v.Err(s.Name) == nil || v.IsSet(s.Name) {
				t.Errorf("%s=%q: Values does not record the error", s.Name, bad)
			}
			if v.Text(s.Name) != s.Default {
				t.Errorf("%s=%q: reads %q, not the default %q", s.Name, bad, v.Text(s.Name), s.Default)
			}
		}
	}
}

func TestDefaultsAreValid(t *testing.T) {
	for _, s := range Table {
		if s.Doc == "" {
			t.Errorf("%s: no documentation", s.Name)
		}
		if !strings.HasPrefix(s.Name, "GONETIF_") {
			t.Errorf("%s: not a GONETIF_ name", s.Name)
		}
		if s.Default != "" {
			if err := s.validate(s.Default); err != nil {
				t.Errorf("%s: default does not pass its own check: %v", s.Name, err)
			}
		}
	}
	seen := map[string]bool{}
	for _, s := range Table {
		if seen[s.Name] {
			t.Errorf("%s appears twice", s.Name)
		}
		seen[s.Name] = true
	}
}

func TestGoodValues(t *testing.T) {
	v, err := Load(env(map[string]string{
		MTU: " 9000 ", TAPPlain: "1", LogLevel: "DEBUG", TAP: "tapA, tapB",
		MAC: "02:00:00:00:00:01,02:00:00:00:00:02", PCAP: "/tmp/cap%d.pcap", TAPNetpoll: "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if v.Uint(MTU) != 9000 || !v.Bool(TAPPlain) || v.Uint(LogLevel) != 4 || v.Bool(TAPNetpoll) {
		t.Errorf("MTU %d plain %v level %d netpoll %v", v.Uint(MTU), v.Bool(TAPPlain), v.Uint(LogLevel), v.Bool(TAPNetpoll))
	}
	if v.Nth(TAP, 1) != "tapB" || v.Nth(TAP, 2) != "" || v.Nth(MAC, 0) != "02:00:00:00:00:01" {
		t.Errorf("lists: %q %q %q", v.Nth(TAP, 1), v.Nth(TAP, 2), v.Nth(MAC, 0))
	}
	if lv, _ := Load(env(map[string]string{LogLevel: "2"})); lv.Uint(LogLevel) != 2 {
		t.Errorf("numeric log level read as %d", lv.Uint(LogLevel))
	}
	d := Defaults()
	if d.Uint(MTU) != 1500 || d.Uint(ExitLingerMS) != 2000 || !d.Bool(TAPNetpoll) || d.Uint(LogLevel) != 3 || d.IsSet(TAP) {
		t.Errorf("defaults wrong: mtu %d linger %d", d.Uint(MTU), d.Uint(ExitLingerMS))
	}
}

func TestAllBadSettingsReported(t *testing.T) {
	_, err := Load(env(map[string]string{MTU: "x", TAPNetpoll: "2", ExitLingerMS: "abc"}))
	for _, name := range []string{MTU, TAPNetpoll, ExitLingerMS} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("joined error %v misses %s", err, name)
		}
	}
}

func TestUnknownNamePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("reading a setting missing from Table did not panic")
		}
	}()
	Defaults().Uint("GONETIF_NO_SUCH_SETTING")
}

const (
	readmePath  = "../../README.md"
	beginMarker = "<!-- settings table: generated from gonetif/config.Table; go test ./gonetif/config -update -->\n"
	endMarker   = "<!-- end of settings table -->\n"
)

// The README's table is Markdown(): a setting added to Table without the
// README (or the other way round) fails here.
func TestREADMETable(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, beginMarker)
	j := strings.Index(text, endMarker)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q ... %q", beginMarker, endMarker)
	}
	have := text[i+len(beginMarker) : j]
	want := Markdown()
	if have == want {
		return
	}
	if *update {
		if err := os.WriteFile(readmePath, []byte(text[:i+len(beginMarker)]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's settings table differs from config.Table; run: go test ./gonetif/config -update\nhave:\n%s\nwant:\n%s", have, want)
}

func TestLinkKinds(t *testing.T) {
	for _, good := range []string{"tap", "user", "user:lab", "vlan:lab", "vlan:/tmp/lan.sock", "user:lab,user:lab"} {
		if _, err := Load(env(map[string]string{Link: good})); err != nil {
			t.Errorf("%s=%q: %v", Link, good, err)
		}
	}
	for _, bad := range []string{"user:", "vlan:", "slirp", "user,"} {
		if _, err := Load(env(map[string]string{Link: bad})); err == nil {
			t.Errorf("%s=%q accepted", Link, bad)
		}
	}
}
