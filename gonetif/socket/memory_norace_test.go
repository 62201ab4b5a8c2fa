//go:build !race

package socket_test

// maxBytesPerEndpoint bounds TestMemoryPerConnection: 6.3-6.5 KB measured
// (gVisor's endpoint, sender, port reservation and demuxer maps are ~95 %
// of it, bench/RESULTS.md); the bound leaves room for noise, not for a new
// per-socket buffer.
const maxBytesPerEndpoint = 7500
