//go:build !race

package socket_test

// maxBytesPerEndpoint bounds TestMemoryPerConnection: 4.8-4.9 KB measured
// with the gVisor overlay's memory edits (6.3-6.5 KB without them, which
// fails; gVisor's endpoint, sender and demuxer entries are most of it,
// bench/RESULTS.md); the bound leaves room for noise, not for a new
// per-socket buffer.
const maxBytesPerEndpoint = 5600
