//go:build race

package socket_test

// maxBytesPerEndpoint under the race detector: 4.9-5.1 KB measured with
// the gVisor overlay's memory edits (6.6-7.1 KB without them); its slower
// run leaves more segments and timers in flight at the sample.
const maxBytesPerEndpoint = 6000
