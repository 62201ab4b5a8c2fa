package socket

// HoldSendBuffer keeps so's buffered bytes from reaching gVisor until
// release is called, as a flusher stuck in a Write would (tests only).
func HoldSendBuffer(so *Socket) (release func()) {
	c := so.coal.Load()
	c.wmu.Lock()
	return c.wmu.Unlock
}

// SendBuffered is the number of bytes in so's send buffer.
func SendBuffered(so *Socket) int {
	c := so.coal.Load()
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		return 0
	}
	return len(*c.pending)
}
