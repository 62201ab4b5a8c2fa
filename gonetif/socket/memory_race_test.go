//go:build race

package socket_test

// maxBytesPerEndpoint under the race detector: 4.7 KB measured with the
// gVisor overlay's memory edits (4.9-5.1 KB before the demuxer and
// write-list edits, 6.6-7.1 KB without any); its slower run leaves more
// segments and timers in flight at the sample.
const maxBytesPerEndpoint = 5300
