package socket

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Run-to-completion receive (GONETIF_TCP_RTC, off by default;
// docs/DESIGN.md D20). A C caller whose step
// answers ErrWait is told, through Call.PollFd, to wait for the
// readability of its interface's TAP as well as for its wait word; when
// it comes back it first reads the TAP's frames itself (ReceiveInline),
// and with inline TCP processing its segment is handled on its own
// thread, so the step that follows finds the data without any other
// thread having run.

// InlineReceiver is an interface whose frames a blocked caller may read
// and deliver itself (a TAP endpoint with caller reads on).
type InlineReceiver interface {
	// WaitFd begins a wait: the descriptor to poll for readability;
	// < 0: none now (wait the ordinary way).
	WaitFd() int
	// DrainInline reads and delivers what is queued now; the number of
	// frames (0 also when another reader has the turn).
	DrainInline() int
}

// InlineReceivers finds the receiver of a NIC; nil when it has none.
type InlineReceivers func(tcpip.NICID) InlineReceiver

// SetInlineReceivers turns run-to-completion receive on for the socket
// (nil: off). Table.InlineReceivers sets it on every socket added.
func (so *Socket) SetInlineReceivers(f InlineReceivers) {
	if f == nil {
		if x := so.extra.Load(); x != nil {
			x.receivers.Store(nil)
		}
		return
	}
	so.extraOf().receivers.Store(&f)
}

// receiver is the socket's interface's InlineReceiver, if the socket may
// use one: TCP, or connected UDP, with a route through a NIC.
func (so *Socket) receiver() InlineReceiver {
	x := so.extra.Load()
	if x == nil {
		return nil
	}
	f := x.receivers.Load()
	if f == nil {
		return nil
	}
	if so.Type != unix.SOCK_STREAM && so.Type != unix.SOCK_DGRAM {
		return nil
	}
	info, ok := so.endpoint().Info().(*gvstack.TransportEndpointInfo)
	if !ok {
		return nil
	}
	nic := info.BindNICID
	if nic == 0 {
		nic = so.nicOf(info.ID.LocalAddress)
	}
	if nic == 0 {
		return nil
	}
	return (*f)(nic)
}

// nicOf is the NIC holding local address a (a connected or bound
// socket's); 0 for none or the unspecified address.
func (so *Socket) nicOf(a tcpip.Address) tcpip.NICID {
	if a.BitLen() == 0 || a.Unspecified() {
		return 0
	}
	proto := ipv4.ProtocolNumber
	if a.BitLen() == 128 {
		proto = ipv6.ProtocolNumber
	}
	return so.stack.CheckLocalAddress(0, proto, a)
}

// OfferInlineReceive fills c.PollFd after a step answered ErrWait: the
// TAP to wait on besides the wait word (descriptor + 1), or 0.
func (so *Socket) OfferInlineReceive(c *Call) {
	c.PollFd = 0
	if r := so.receiver(); r != nil {
		if fd := r.WaitFd(); fd >= 0 {
			c.PollFd = fd + 1
		}
	}
}

// ReceiveInline is the first thing a step called again after such a wait
// does: read the interface's frames on this thread.
func (so *Socket) ReceiveInline(c *Call) {
	if c.PollFd == 0 {
		return
	}
	if r := so.receiver(); r != nil {
		r.DrainInline()
	}
}
