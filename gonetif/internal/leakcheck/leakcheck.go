// Package leakcheck holds the heap and goroutine checks that flood and
// load tests share.
package leakcheck

import (
	"runtime"
	"testing"
	"time"
)

// LiveHeap is the heap's live bytes after two collections (the second
// frees what finalizers of the first released).
func LiveHeap() uint64 { return collected().HeapAlloc }

// HeapInUse is the heap's in-use spans after two collections: what the
// process holds, holes included.
func HeapInUse() uint64 { return collected().HeapInuse }

func collected() *runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &m
}

// Flood bounds what a long stream of hostile input leaves behind: bounded
// tables (fragment reassembly, neighbour and route caches) may fill during
// the first half, so the second half must not grow the heap like the
// first, and the goroutines must settle back.
type Flood struct {
	goroutines int
	before     uint64
	mid        uint64
}

// StartFlood records the state before the flood.
func StartFlood() *Flood {
	return &Flood{goroutines: runtime.NumGoroutine(), before: LiveHeap()}
}

// HalfWay records the heap half-way through.
func (f *Flood) HalfWay() { f.mid = LiveHeap() }

// Check waits up to 10 s for the goroutines to settle (a handful of a
// service may still be ending), then fails t if they did not or if the
// heap grew more than 24 MiB overall or 6 MiB since half-way.
func (f *Flood) Check(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > f.goroutines+5 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > f.goroutines+5 {
		t.Errorf("goroutines %d -> %d", f.goroutines, g)
	}
	after := LiveHeap()
	t.Logf("heap %.1f MB before, %.1f at half-way, %.1f after; goroutines %d -> %d", float64(f.before)/1e6,
		float64(f.mid)/1e6, float64(after)/1e6, f.goroutines, runtime.NumGoroutine())
	if after > f.before+24<<20 || after > f.mid+6<<20 {
		t.Errorf("heap grew: %.1f MB before, %.1f at half-way, %.1f after", float64(f.before)/1e6,
			float64(f.mid)/1e6, float64(after)/1e6)
	}
}
