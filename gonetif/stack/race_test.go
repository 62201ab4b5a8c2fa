//go:build race

package stack_test

// raceEnabled: the race detector slows the stack down, so timing
// comparisons with the kernel are only logged.
const raceEnabled = true
