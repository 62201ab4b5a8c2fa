package socket_test

import (
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/socket"
	"gonetif.dev/gonetif/stack"
)

// fakeReceiver stands for a TAP with caller reads: it counts the waits
// begun and the drains.
type fakeReceiver struct {
	fd            int
	waits, drains int
}

func (f *fakeReceiver) WaitFd() int      { f.waits++; return f.fd }
func (f *fakeReceiver) DrainInline() int { f.drains++; return 1 }

// The policy of run-to-completion receive: a wait of a socket whose local
// address is on a NIC with a receiver is offered that receiver's
// descriptor (+1), the next step drains it first; a socket on another
// NIC, or with the switch off, waits the ordinary way.
func TestInlineReceiveOffer(t *testing.T) {
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	link := driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x00\x01", Transmit: func([]byte) error { return nil }})
	so := connectedUDPOver(t, s, link, 5413)
	nic := s.Netifs.List()[0].NICID()

	if r := s.Netifs.InlineReader(nic); r != nil {
		t.Fatalf("a driver link is no InlineReader, got %T", r)
	}
	var c socket.Call
	so.OfferInlineReceive(&c)
	if c.PollFd != 0 {
		t.Fatalf("switch off: PollFd = %d, want 0", c.PollFd)
	}

	tap := &fakeReceiver{fd: 41}
	var asked []tcpip.NICID
	so.SetInlineReceivers(func(id tcpip.NICID) socket.InlineReceiver {
		asked = append(asked, id)
		if id == nic {
			return tap
		}
		return nil
	})
	b := make([]byte, 16)
	res, err := so.RecvStep(&c, b, socket.RecvFlags{})
	if err != socket.ErrWait {
		t.Fatalf("RecvStep on an empty socket: %+v %v, want ErrWait", res, err)
	}
	so.OfferInlineReceive(&c)
	if c.PollFd != tap.fd+1 || tap.waits != 1 {
		t.Fatalf("PollFd = %d after %d waits begun, want %d after 1", c.PollFd, tap.waits, tap.fd+1)
	}
	if len(asked) == 0 || asked[len(asked)-1] != nic {
		t.Fatalf("receiver asked for NICs %v, want the socket's %d", asked, nic)
	}
	so.ReceiveInline(&c)
	if tap.drains != 1 {
		t.Fatalf("%d drains after the wait, want 1", tap.drains)
	}
	c.PollFd = 0
	so.ReceiveInline(&c)
	if tap.drains != 1 {
		t.Fatal("a step not coming back from such a wait drained the TAP")
	}

	// Another NIC's receiver is not this socket's; nor is any receiver
	// that of a socket with no local address yet.
	so.SetInlineReceivers(func(tcpip.NICID) socket.InlineReceiver { return nil })
	so.OfferInlineReceive(&c)
	if c.PollFd != 0 {
		t.Fatalf("no receiver on the socket's NIC: PollFd = %d, want 0", c.PollFd)
	}
	fresh, err := socket.New(s.Gvisor(), unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Release()
	fresh.SetInlineReceivers(func(tcpip.NICID) socket.InlineReceiver { return tap })
	fresh.OfferInlineReceive(&c)
	if c.PollFd != 0 {
		t.Fatalf("unbound socket: PollFd = %d, want 0", c.PollFd)
	}
}
