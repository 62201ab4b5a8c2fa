package gonetif_test

import (
	"runtime/debug"
	"testing"

	"gonetif.dev/gonetif"
)

func gcPercent() int {
	old := debug.SetGCPercent(100)
	debug.SetGCPercent(old)
	return old
}

// Without GOGC in the environment the archive's target is set; with it,
// the user's value (already applied by Go's runtime) stays.
func TestTuneGCForArchive(t *testing.T) {
	defer debug.SetGCPercent(gcPercent())
	debug.SetGCPercent(100)
	unset := func(string) (string, bool) { return "", false }
	if got := gonetif.TuneGCForArchive(unset); got != gonetif.ArchiveGCPercent || gcPercent() != gonetif.ArchiveGCPercent {
		t.Fatalf("GOGC unset: returned %d, in force %d, want %d", got, gcPercent(), gonetif.ArchiveGCPercent)
	}
	debug.SetGCPercent(150) // as GOGC=150 would have made it
	set := func(name string) (string, bool) { return "150", name == "GOGC" }
	if got := gonetif.TuneGCForArchive(set); got != 150 || gcPercent() != 150 {
		t.Fatalf("GOGC=150: returned %d, in force %d, want 150 kept", got, gcPercent())
	}
}
