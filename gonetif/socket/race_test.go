//go:build race

package socket_test

// raceEnabled: the race detector slows the stack down; loads scale down.
const raceEnabled = true
