package dhcp

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Ports of RFC 2131.
const (
	ServerPort = 67
	ClientPort = 68
)

// NICTransport is a UDP endpoint on port 68 tied to one gVisor NIC, with
// broadcast on. gVisor picks a source address from the NIC's addresses, so
// while the NIC has none it carries 0.0.0.0/0 as a temporary address: the
// stack then sends from 0.0.0.0, and 255.255.255.255 is always accepted.
type NICTransport struct {
	s    *gvstack.Stack
	nic  tcpip.NICID
	conn *gonet.UDPConn

	mu  sync.Mutex
	any bool // we added 0.0.0.0
}

// NewNICTransport opens the client socket on nic.
func NewNICTransport(s *gvstack.Stack, nic tcpip.NICID) (*NICTransport, error) {
	var wq waiter.Queue
	ep, terr := s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		return nil, &TransportError{Op: "socket", Err: terr}
	}
	ep.SocketOptions().SetBroadcast(true)
	ep.SocketOptions().SetReuseAddress(true)
	if terr := ep.SocketOptions().SetBindToDevice(int32(nic)); terr != nil {
		ep.Close()
		return nil, &TransportError{Op: "bind to device", Err: terr}
	}
	if terr := ep.Bind(tcpip.FullAddress{NIC: nic, Port: ClientPort}); terr != nil {
		ep.Close()
		return nil, &TransportError{Op: "bind port 68", Err: terr}
	}
	return &NICTransport{s: s, nic: nic, conn: gonet.NewUDPConn(&wq, ep)}, nil
}

// TransportError is a gVisor failure opening the client socket.
type TransportError struct {
	Op  string
	Err tcpip.Error
}

func (e *TransportError) Error() string { return "dhcp: " + e.Op + ": " + e.Err.String() }

// Send implements Transport.
func (t *NICTransport) Send(msg []byte, dst netip.Addr) error {
	_, err := t.conn.WriteTo(msg, &net.UDPAddr{IP: dst.AsSlice(), Port: ServerPort})
	return err
}

// Recv implements Transport.
func (t *NICTransport) Recv(buf []byte, deadline time.Time) (int, error) {
	if err := t.conn.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n, _, err := t.conn.ReadFrom(buf)
	return n, err
}

// Unaddressed implements Transport.
func (t *NICTransport) Unaddressed(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	anyAddr := tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: header.IPv4Any, PrefixLen: 0},
	}
	switch {
	case on && !t.any:
		if a, err := t.s.GetMainNICAddress(t.nic, ipv4.ProtocolNumber); err == nil && a.Address.Len() != 0 {
			return // has a real address: send from it
		}
		if t.s.AddProtocolAddress(t.nic, anyAddr, gvstack.AddressProperties{PEB: gvstack.CanBePrimaryEndpoint}) == nil {
			t.any = true
		}
	case !on && t.any:
		_ = t.s.RemoveAddress(t.nic, header.IPv4Any)
		t.any = false
	}
}

// Close implements Transport.
func (t *NICTransport) Close() { _ = t.conn.Close() }
