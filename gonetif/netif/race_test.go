//go:build race

package netif_test

// raceEnabled: the race detector slows senders down past the UDP queue's
// streaming gap, so nothing is queued.
const raceEnabled = true
