//go:build race

package socket_test

// maxBytesPerEndpoint under the race detector: 6.6-7.1 KB measured (its
// slower run leaves more segments and timers in flight at the sample).
const maxBytesPerEndpoint = 8500
