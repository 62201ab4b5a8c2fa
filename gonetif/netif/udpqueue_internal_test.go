package netif

import (
	"testing"
	"time"
)

// TestQueueUDPOnlyWhileStreaming: a lone datagram is written by its
// sender; one that follows the previous within udpStreamGap with nothing
// received in between is queued, and so is any while datagrams are still
// queued (a flow keeps its order). A datagram sent after a receive (the
// next request of a fast request/response) is written by its sender.
func TestQueueUDPOnlyWhileStreaming(t *testing.T) {
	var q tcpTxQueue
	us := int64(time.Microsecond)
	t0 := int64(time.Second)
	steps := []struct {
		at     int64
		rx     uint64 // packets received by then
		queued int64
		want   bool
	}{
		{t0, 0, 0, false},             // the first
		{t0 + 5*us, 0, 0, true},       // right behind it
		{t0 + 10*us, 0, 0, true},      // the stream goes on
		{t0 + 200*us, 0, 0, false},    // a pause: a request on its own
		{t0 + 1000*us, 0, 1, true},    // late, but one is still queued
		{t0 + 100000*us, 0, 0, false}, // late, none queued
		{t0 + 100010*us, 1, 0, false}, // soon, but an answer came in between
		{t0 + 100020*us, 2, 0, false}, // and again: a fast request/response
		{t0 + 100025*us, 2, 0, true},  // nothing received: a stream again
		{t0 + 100030*us, 3, 1, true},  // an answer, but one is still queued
	}
	for i, s := range steps {
		q.udpQueued.Store(s.queued)
		if got := q.queueUDP(s.at, s.rx); got != s.want {
			t.Errorf("step %d (at +%d µs, %d queued): queue = %v, want %v", i, (s.at-t0)/us, s.queued, got, s.want)
		}
	}
}
