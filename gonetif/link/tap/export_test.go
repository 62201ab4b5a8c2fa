package tap

// UsesNetpoll reports which reader the endpoint runs, for tests.
func (e *Endpoint) UsesNetpoll() bool { return e.netpoll }

// UDPTestPacket is udpTestPacket for the external tests.
var UDPTestPacket = udpTestPacket
