package netif

import "time"

// SetUDPStreamGap sets how close UDP frames must follow each other to be
// taken for a stream (udpStreamGap) and returns the old value.
func SetUDPStreamGap(d time.Duration) time.Duration {
	old := udpStreamGap
	udpStreamGap = d
	return old
}

// UDPRoomWait is how long a UDP sender waits for room in a full queue.
const UDPRoomWait = udpRoomWait
