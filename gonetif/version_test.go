package gonetif_test

import (
	"os"
	"regexp"
	"testing"

	"gonetif.dev/gonetif"
)

// The version is written in two places (Go and CMake, which generates the
// installed package files); they must agree and be MAJOR.MINOR.PATCH.
func TestVersionMatchesCMake(t *testing.T) {
	if !regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`).MatchString(gonetif.Version) {
		t.Fatalf("Version %q is not MAJOR.MINOR.PATCH", gonetif.Version)
	}
	data, err := os.ReadFile("../CMakeLists.txt")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^set\(GONETIF_VERSION ([^)]+)\)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("CMakeLists.txt has no set(GONETIF_VERSION ...)")
	}
	if string(m[1]) != gonetif.Version {
		t.Fatalf("CMakeLists.txt GONETIF_VERSION %s, gonetif.Version %s", m[1], gonetif.Version)
	}
}
