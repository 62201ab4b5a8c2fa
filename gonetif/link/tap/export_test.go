package tap

// UsesNetpoll reports which reader the endpoint runs, for tests.
func (e *Endpoint) UsesNetpoll() bool { return e.netpoll }

// UDPTestPacket is udpTestPacket for the external tests.
var UDPTestPacket = udpTestPacket

// ReaderYielded reports whether the reader goroutine has been asked to
// stay away for callers (rtc.go), for tests.
func (e *Endpoint) ReaderYielded() bool { return e.cr.yield.Load() }
