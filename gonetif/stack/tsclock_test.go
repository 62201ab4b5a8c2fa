package stack_test

import (
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/stack"
)

// TestTimestampsRiseAcrossStacks makes eight stacks one after another, as
// eight processes would, and sends one SYN from each on the same 4-tuple:
// each SYN's TSval must be later than the one before. A peer that still
// holds the tuple in TIME_WAIT (it closed first, as bench/run's crr peer
// does) takes a new SYN only with a newer timestamp (PAWS); otherwise it
// answers with an ACK of the old connection, gVisor resets it, and the
// handshake takes several SYNs and SYN-ACKs. gVisor's timestamps start at
// a random offset per stack (a secret drawn per stack, a clock from the
// stack's creation), so without the overlay's SetTimestampSecret and the
// host clock this fails (eight random offsets are in order 1 time in
// 40 320).
func TestTimestampsRiseAcrossStacks(t *testing.T) {
	local, remote := tcpip.AddrFrom4([4]byte{10, 7, 5, 1}), tcpip.AddrFrom4([4]byte{10, 7, 5, 2})
	var last uint32
	for i := range 8 {
		ts := synTSVal(t, local, remote, 40000)
		if i > 0 && int32(ts-last) <= 0 {
			t.Fatalf("stack %d's SYN has TSval %d, stack %d's had %d: not later", i, ts, i-1, last)
		}
		last = ts
		time.Sleep(2 * time.Millisecond) // the clock ticks in milliseconds
	}
}

// synTSVal makes a stack, connects from local:port to remote:80 through a
// link that keeps what it is given, and returns the TSval of the SYN.
func synTSVal(t *testing.T, local, remote tcpip.Address, port uint16) uint32 {
	t.Helper()
	s, err := stack.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	syn := make(chan uint32, 1)
	link := driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x05\x01", Transmit: func(frame []byte) error {
		if ts, ok := synTimestamp(frame); ok {
			select {
			case syn <- ts:
			default:
			}
		}
		return nil
	}})
	if err := s.CreateNIC(1, link); err != nil {
		t.Fatal(err)
	}
	if err := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: local.WithPrefix()}, gvstack.AddressProperties{}); err != nil {
		t.Fatal(err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: 1}})
	if err := s.AddStaticNeighbor(1, ipv4.ProtocolNumber, remote, "\x02\x00\x00\x00\x05\x02"); err != nil {
		t.Fatal(err)
	}
	var wq waiter.Queue
	ep, e := s.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if e != nil {
		t.Fatal(e)
	}
	defer ep.Close()
	if e := ep.Bind(tcpip.FullAddress{Addr: local, Port: port}); e != nil {
		t.Fatal(e)
	}
	if e := ep.Connect(tcpip.FullAddress{Addr: remote, Port: 80}); e != nil {
		if _, started := e.(*tcpip.ErrConnectStarted); !started {
			t.Fatal(e)
		}
	}
	select {
	case ts := <-syn:
		return ts
	case <-time.After(5 * time.Second):
		t.Fatal("no SYN within 5 s")
	}
	return 0
}

// synTimestamp is the TSval of frame when it is an IPv4 TCP SYN with a
// timestamp option.
func synTimestamp(frame []byte) (uint32, bool) {
	if len(frame) < header.EthernetMinimumSize+header.IPv4MinimumSize+header.TCPMinimumSize {
		return 0, false
	}
	ip := header.IPv4(frame[header.EthernetMinimumSize:])
	if header.Ethernet(frame).Type() != header.IPv4ProtocolNumber || ip.TransportProtocol() != header.TCPProtocolNumber {
		return 0, false
	}
	seg := header.TCP(ip.Payload())
	if seg.Flags() != header.TCPFlagSyn {
		return 0, false
	}
	opts := header.ParseSynOptions(seg.Options(), false)
	return opts.TSVal, opts.TS
}
