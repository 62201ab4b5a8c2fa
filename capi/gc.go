package main

import (
	"os"

	"gonetif.dev/gonetif"
)

// The archive's GC target, once, when the program loads it (GOGC in the
// environment wins; see gonetif.ArchiveGCPercent).
func init() { gonetif.TuneGCForArchive(os.LookupEnv) }
