package gonetif

import "runtime/debug"

// ArchiveGCPercent is the Go collector's target in the C archive when the
// environment sets no GOGC. With Go's 100 the heap grows to twice what was
// live at the last collection before the next one starts, and what it
// reached stays resident; while thousands of connections open, that
// overshoot, not the connections, decided the RSS (10 000 connections:
// 60-61 MB at 100, 57 MB at 70, bench/RESULTS.md). The data paths
// allocate little (a few collections in a 2 s bulk run), so the extra
// collections cost no throughput measurable here.
const ArchiveGCPercent = 70

// TuneGCForArchive sets the collector's target to ArchiveGCPercent unless
// GOGC is in the environment (lookup is os.LookupEnv: the user's GOGC,
// which Go's runtime already applied, wins). It returns the target in
// force. The C archive calls it once when it loads; a Go program using
// this package keeps its own GC settings.
func TuneGCForArchive(lookup func(string) (string, bool)) int {
	if _, set := lookup("GOGC"); set {
		old := debug.SetGCPercent(100)
		debug.SetGCPercent(old)
		return old
	}
	debug.SetGCPercent(ArchiveGCPercent)
	return ArchiveGCPercent
}
