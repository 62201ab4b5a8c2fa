// Package socket gives gVisor endpoints the semantics of Linux BSD sockets:
// Linux constants, Linux errno values, and Linux's blocking rules
// (O_NONBLOCK, SO_RCVTIMEO/SO_SNDTIMEO, SO_LINGER, MSG_WAITALL).
//
// Go callers use the blocking methods (Connect, Accept, Send, Recv,
// Close). Each is a loop around a step that never blocks (blocking.go);
// C callers run the same steps and do the waiting on their own side (a
// futex or their RTOS), so both get the same semantics.
package socket

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	gvraw "gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Readiness events, with Linux poll(2) values.
const (
	EventIn   = waiter.ReadableEvents
	EventOut  = waiter.WritableEvents
	EventErr  = waiter.EventErr
	EventHUp  = waiter.EventHUp
	allEvents = EventIn | EventOut | EventErr | EventHUp | waiter.EventRdHUp
)

// sockMax is Linux's SOCK_MAX: socket types at or above it are EINVAL.
const sockMax = 11

// Socket is one BSD socket on a gVisor endpoint.
type Socket struct {
	Family, Type, Protocol int

	ep       endpointSlot // replaced under mu by renewLocked, read without it
	wq       *waiter.Queue
	stack    *gvstack.Stack
	netProto tcpip.NetworkProtocolNumber
	entry    waiter.Entry

	notify atomic.Pointer[func(waiter.EventMask)]
	blk    blocking

	devNames atomic.Pointer[DeviceNames]
	coal     atomic.Pointer[coalescer] // send coalescing, when on (coalesce.go)
	extra    atomic.Pointer[socketExtra]

	// Under mu. The flags come first, together, so the struct is 208
	// bytes, not 224 (one size class less per socket).
	mu         sync.Mutex
	connecting bool // a connect is in flight; its result is still pending
	inProgress bool // connect said EINPROGRESS; the next connect reports the outcome
	shutWrite  bool
	shutRead   bool
	errTaken   bool // the connection's error was reported once
	synExpired bool
	listening  bool
	closed     bool
	// Read without mu; here they fill the flags' word.
	udpReadShut atomic.Bool // SHUT_RD on a UDP socket (shutdownUDP)
	// connect(AF_UNSPEC) dropped the connection: its ECONNRESET is still
	// to be reported.
	dropped    atomic.Bool
	connectErr unix.Errno
}

// endpointSlot holds a socket's gVisor endpoint. A stream socket whose
// connection failed or was dropped gets a new one (renewLocked) while
// sends, receives and polls run without mu, so the interface value is
// swapped atomically: atomic.Value is as wide as the interface and
// stores a pointer without allocating. Every endpoint of one socket has
// the same concrete type (renewLocked makes TCP endpoints only for
// stream sockets), as atomic.Value requires.
type endpointSlot struct{ v atomic.Value }

func (s *endpointSlot) store(ep tcpip.Endpoint) { s.v.Store(ep) }

// endpoint is the socket's current gVisor endpoint. A caller that uses it
// more than once in a step loads it once, so the step acts on one endpoint.
func (so *Socket) endpoint() tcpip.Endpoint { return so.ep.v.Load().(tcpip.Endpoint) }

// socketExtra holds what few sockets ever set, made on first use so that
// every other socket stays a size class smaller (TestSocketSizeClasses).
type socketExtra struct {
	statusFlags atomic.Uint32 // F_SETFL's keptStatusFlags (callargs.go)
	cork        corkState     // UDP_CORK and MSG_MORE (cork.go)
	// IP_MULTICAST_IF of an IPV6_V6ONLY socket, kept only to read back.
	v6onlyMulticastIf atomic.Pointer[tcpip.MulticastInterfaceOption]
	// F_SETOWN's process (> 0) or process group (< 0) for SIGIO; 0: none.
	owner atomic.Int32
	// Under the socket's mu.
	udpFast  atomic.Pointer[udpFast] // the UDP fast path, when on (udpfast.go)
	synCount int                     // TCP_SYNCNT as set; gVisor's active open ignores it
	synTimer *time.Timer
	// Run-to-completion receive (rtc.go); nil: off.
	receivers atomic.Pointer[InlineReceivers]
}

// extraOf is the socket's socketExtra, made if it has none yet.
func (so *Socket) extraOf() *socketExtra {
	if x := so.extra.Load(); x != nil {
		return x
	}
	so.extra.CompareAndSwap(nil, new(socketExtra))
	return so.extra.Load()
}

// StackDomain reports whether socket(2) in domain is this stack's (IP);
// any other domain (AF_UNIX, AF_NETLINK ...) is the kernel's.
func StackDomain(domain int) bool { return domain == unix.AF_INET || domain == unix.AF_INET6 }

// New creates a socket like socket(2): domain AF_INET or AF_INET6, type
// SOCK_STREAM, SOCK_DGRAM or SOCK_RAW, with SOCK_NONBLOCK setting O_NONBLOCK
// (SOCK_CLOEXEC is the descriptor's, accepted and ignored here).
func New(s *gvstack.Stack, domain, typ, protocol int) (*Socket, error) {
	var netProto tcpip.NetworkProtocolNumber
	switch domain {
	case unix.AF_INET:
		netProto = ipv4.ProtocolNumber
	case unix.AF_INET6:
		netProto = ipv6.ProtocolNumber
	default:
		return nil, unix.EAFNOSUPPORT
	}
	baseType := typ &^ (unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC)
	if baseType < 0 || baseType >= sockMax {
		return nil, unix.EINVAL
	}
	var transProto tcpip.TransportProtocolNumber
	raw := false
	switch baseType {
	case unix.SOCK_STREAM:
		if protocol != 0 && protocol != unix.IPPROTO_TCP {
			return nil, unix.EPROTONOSUPPORT
		}
		protocol, transProto = unix.IPPROTO_TCP, tcp.ProtocolNumber
	case unix.SOCK_DGRAM:
		switch {
		case protocol == 0 || protocol == unix.IPPROTO_UDP:
			protocol, transProto = unix.IPPROTO_UDP, udp.ProtocolNumber
		case protocol == unix.IPPROTO_ICMP && domain == unix.AF_INET:
			transProto = icmp.ProtocolNumber4
		case protocol == unix.IPPROTO_ICMPV6 && domain == unix.AF_INET6:
			transProto = icmp.ProtocolNumber6
		default:
			return nil, unix.EPROTONOSUPPORT
		}
	case unix.SOCK_RAW:
		if protocol <= 0 || protocol > 255 {
			return nil, unix.EPROTONOSUPPORT
		}
		raw, transProto = true, tcpip.TransportProtocolNumber(protocol)
	default:
		return nil, unix.ESOCKTNOSUPPORT
	}
	wq := new(waiter.Queue)
	var ep tcpip.Endpoint
	var err tcpip.Error
	if raw {
		// Created directly: the stack's raw factory is for packet sockets.
		ep, err = gvraw.NewEndpoint(s, netProto, transProto, wq)
	} else {
		ep, err = s.NewEndpoint(transProto, netProto, wq)
	}
	if err != nil {
		return nil, errnoOf(err)
	}
	so := wrap(ep, wq, domain, baseType, protocol)
	so.stack, so.netProto = s, netProto
	so.SetNonblock(typ&unix.SOCK_NONBLOCK != 0)
	return so, nil
}

func wrap(ep tcpip.Endpoint, wq *waiter.Queue, family, typ, protocol int) *Socket {
	so := &Socket{Family: family, Type: typ, Protocol: protocol, wq: wq}
	so.ep.store(ep)
	so.SetWaitWord(nil)
	so.entry = waiter.NewFunctionEntry(allEvents, so.onEvent)
	wq.EventRegister(&so.entry)
	return so
}

func (so *Socket) onEvent(m waiter.EventMask) {
	so.bumpWord()
	if fn := so.notify.Load(); fn != nil {
		(*fn)(m)
	}
	if x := so.extra.Load(); x != nil {
		x.signalOwner()
	}
}

// wakeWriters tells every waiter that the coalescer has room again. It
// goes through the queue, not only onEvent: a Go caller's await listens on
// the queue, and a bump it does not hear leaves it asleep until gVisor's
// next event, which may never come.
func (so *Socket) wakeWriters() { so.wq.Notify(EventOut) }

// SetNotify installs fn to be called on every readiness change, after the
// wait word was bumped. It runs on the stack's goroutines and must not block.
func (so *Socket) SetNotify(fn func(waiter.EventMask)) {
	if fn == nil {
		so.notify.Store(nil)
		return
	}
	so.notify.Store(&fn)
}

// Endpoint exposes the gVisor endpoint, e.g. to wrap it with gonet.
func (so *Socket) Endpoint() (tcpip.Endpoint, *waiter.Queue) { return so.endpoint(), so.wq }

// Bind assigns a local address.
func (so *Socket) Bind(addr tcpip.FullAddress) error {
	defer so.udpFastChanged()
	err := so.endpoint().Bind(addr)
	switch err.(type) {
	case *tcpip.ErrNoPortAvailable:
		return unix.EADDRINUSE // Linux: no free port to bind to
	case *tcpip.ErrInvalidEndpointState, *tcpip.ErrAlreadyBound:
		// Bound already. Linux checks the address before that.
		if so.foreignAddr(addr.Addr) {
			return unix.EADDRNOTAVAIL
		}
	}
	return errOrNil(err)
}

// foreignAddr: a is a unicast address no interface of the stack holds,
// which bind refuses (EADDRNOTAVAIL).
func (so *Socket) foreignAddr(a tcpip.Address) bool {
	if so.stack == nil || a.Unspecified() {
		return false
	}
	proto := so.netProto
	if isV4Mapped(a) {
		m := a.As16()
		a, proto = tcpip.AddrFrom4([4]byte(m[12:])), ipv4.ProtocolNumber
	}
	if a.Len() == 4 {
		v4 := a.As4()
		if v4[0] >= 224 || so.stack.IsSubnetBroadcast(0, ipv4.ProtocolNumber, a) {
			return false // multicast, limited or subnet broadcast
		}
		proto = ipv4.ProtocolNumber
	} else if a.As16()[0] == 0xff {
		return false
	}
	return so.stack.CheckLocalAddress(0, proto, a) == 0
}

// connectOnce starts a connection. For TCP it returns EINPROGRESS; the result
// is then read with ConnectResult once the socket is writable. As on Linux,
// the first connect after an EINPROGRESS reports the outcome (0 or the
// error), later ones EISCONN. An AF_UNSPEC address (Unspec) dissolves a
// datagram socket's association.
func (so *Socket) connectOnce(addr tcpip.FullAddress) error {
	defer so.udpFastChanged()
	if err := so.needScope(addr); err != nil {
		return err
	}
	if so.v6onlyRefuses(addr) {
		return unix.ENETUNREACH
	}
	so.mu.Lock()
	defer so.mu.Unlock()
	// gVisor's TCP picks the route before it looks at SO_BINDTODEVICE, so
	// a connect from a device that is not the default one would leave by
	// the wrong interface. Name the device in the address instead.
	if addr.NIC == 0 {
		if dev := so.endpoint().SocketOptions().GetBindToDevice(); dev != 0 {
			addr.NIC = tcpip.NICID(dev)
		}
	}
	if so.inProgress {
		if so.connecting && so.endpoint().Readiness(EventOut|EventErr|EventHUp) == 0 {
			return unix.EALREADY
		}
		return so.settleLocked()
	}
	so.takeDroppedLocked() // Linux clears the error when it connects anew
	if so.Type == unix.SOCK_STREAM {
		if _, err := so.endpoint().GetRemoteAddress(); err == nil {
			return unix.EISCONN
		}
		if tcp.EndpointState(so.endpoint().State()) == tcp.StateListen {
			return unix.EISCONN // Linux: only a closed socket may connect
		}
		if tcp.EndpointState(so.endpoint().State()) == tcp.StateError {
			if err := so.renewLocked(); err != nil {
				return err
			}
		}
	}
	err := so.endpoint().Connect(addr)
	if _, started := err.(*tcpip.ErrConnectStarted); started {
		so.connecting = true
		so.inProgress = true
		if x := so.extra.Load(); x != nil && x.synCount > 0 && x.synCount < 30 {
			// Linux gives up after the SYN and synCount retries, the
			// timeout doubling from 1 s.
			ep, n := so.endpoint(), x.synCount
			x.synTimer = time.AfterFunc(time.Duration(1<<(n+1)-1)*time.Second, func() {
				so.mu.Lock()
				expired := so.endpoint() == ep && so.connecting && so.endpoint().Readiness(EventOut|EventErr|EventHUp) == 0
				so.synExpired = so.synExpired || expired
				so.mu.Unlock()
				if expired {
					ep.Abort()
				}
			})
		}
		return unix.EINPROGRESS
	}
	if _, ok := err.(*tcpip.ErrNoPortAvailable); ok {
		return unix.EADDRNOTAVAIL // Linux: the ephemeral ports ran out
	}
	return errOrNil(err)
}

// renewLocked gives a stream socket whose connection failed a fresh
// endpoint: Linux lets such a socket connect again, gVisor does not.
func (so *Socket) renewLocked() error {
	if so.stack == nil {
		return unix.ECONNABORTED
	}
	ep, err := so.stack.NewEndpoint(tcp.ProtocolNumber, so.netProto, so.wq)
	if err != nil {
		return errnoOf(err)
	}
	oldOpts, newOpts := so.endpoint().SocketOptions(), ep.SocketOptions()
	newOpts.SetReuseAddress(oldOpts.GetReuseAddress())
	newOpts.SetReusePort(oldOpts.GetReusePort())
	newOpts.SetKeepAlive(oldOpts.GetKeepAlive())
	newOpts.SetDelayOption(oldOpts.GetDelayOption())
	newOpts.SetLinger(oldOpts.GetLinger())
	newOpts.SetV6Only(oldOpts.GetV6Only())
	newOpts.SetBindToDevice(oldOpts.GetBindToDevice())
	old := so.endpoint()
	so.ep.store(ep)
	so.errTaken = false
	old.Close()
	return nil
}

// Disconnect is connect(AF_UNSPEC): a datagram socket forgets its peer,
// a listener stops listening, a connected stream drops its connection
// (as Linux's tcp_disconnect).
func (so *Socket) Disconnect() error {
	defer so.udpFastChanged()
	if so.Type == unix.SOCK_STREAM {
		if _, err := so.endpoint().GetRemoteAddress(); err == nil {
			return so.dropConnection()
		}
		if so.Listening() {
			if err := so.endpoint().Shutdown(tcpip.ShutdownRead); err != nil {
				return errnoOf(err)
			}
			so.mu.Lock()
			so.listening = false
			so.mu.Unlock()
		}
		return nil
	}
	return errOrNil(so.endpoint().Disconnect())
}

// dropConnection is Disconnect on a connected stream: the peer gets a
// reset, unsent bytes are dropped, the socket is fresh again (it may
// connect anew) and its next send, receive or SO_ERROR reports
// ECONNRESET once.
func (so *Socket) dropConnection() error {
	if c := so.coal.Load(); c != nil {
		c.reset()
	}
	so.endpoint().Abort()
	so.mu.Lock()
	defer so.mu.Unlock()
	if err := so.renewLocked(); err != nil {
		return err
	}
	so.shutRead, so.shutWrite = false, false
	so.connecting, so.inProgress, so.connectErr = false, false, 0
	so.dropped.Store(true)
	return nil
}

// takeDropped reports, once, the ECONNRESET of a dropped connection.
func (so *Socket) takeDropped() unix.Errno {
	if !so.dropped.Load() {
		return 0
	}
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.takeDroppedLocked()
}

func (so *Socket) takeDroppedLocked() unix.Errno {
	if !so.dropped.Swap(false) {
		return 0
	}
	return unix.ECONNRESET
}

// settleLocked reports the outcome of an EINPROGRESS connect once.
func (so *Socket) settleLocked() error {
	so.finishConnectLocked()
	so.inProgress = false
	if err := so.connectErr; err != 0 {
		so.connectErr = 0
		return err
	}
	if _, err := so.endpoint().GetRemoteAddress(); err == nil {
		return nil
	}
	// The error was already taken through SO_ERROR.
	return unix.ECONNABORTED
}

// ConnectResult completes a connect that returned EINPROGRESS, after the
// socket became writable or failed: nil, or why the connection failed.
// While the connect is still in flight it returns EINPROGRESS.
func (so *Socket) ConnectResult() error {
	so.mu.Lock()
	defer so.mu.Unlock()
	if so.connecting && so.endpoint().Readiness(EventOut|EventErr|EventHUp) == 0 {
		return unix.EINPROGRESS
	}
	return so.settleLocked()
}

func (so *Socket) finishConnectLocked() {
	if !so.connecting {
		return
	}
	so.connecting = false
	if x := so.extra.Load(); x != nil && x.synTimer != nil {
		x.synTimer.Stop()
		x.synTimer = nil
	}
	if err := so.takeError(); err != 0 {
		so.connectErr = err
	}
	if so.synExpired {
		so.connectErr = unix.ETIMEDOUT
		so.synExpired = false
	}
}

// takeError reads and clears the endpoint's error. gVisor keeps a hard
// error and a soft one, often the same; Linux has one, read once.
func (so *Socket) takeError() unix.Errno {
	first := so.endpoint().LastError()
	second := so.endpoint().LastError()
	if first == nil {
		first = second
	}
	if first == nil {
		return 0
	}
	so.errTaken = true
	return errnoOf(first)
}

// PendingError returns and clears the socket's pending error (SO_ERROR).
func (so *Socket) PendingError() unix.Errno {
	so.mu.Lock()
	defer so.mu.Unlock()
	if e := so.takeDroppedLocked(); e != 0 {
		return e
	}
	if so.connecting && so.endpoint().Readiness(EventOut|EventErr|EventHUp) != 0 {
		so.finishConnectLocked()
	}
	if err := so.connectErr; err != 0 {
		so.connectErr = 0
		return err
	}
	return so.takeError()
}

// Listen turns a stream socket into a listener.
func (so *Socket) Listen(backlog int) error {
	if so.Type != unix.SOCK_STREAM {
		return unix.EOPNOTSUPP
	}
	if backlog < 0 {
		backlog = 0
	}
	if backlog > 4096 {
		backlog = 4096
	}
	if err := so.endpoint().Listen(backlog); err != nil {
		return errnoOf(err)
	}
	so.mu.Lock()
	so.listening = true
	so.mu.Unlock()
	return nil
}

// acceptOnce takes one pending connection, or returns EAGAIN.
func (so *Socket) acceptOnce() (*Socket, tcpip.FullAddress, error) {
	if so.Type != unix.SOCK_STREAM {
		return nil, tcpip.FullAddress{}, unix.EOPNOTSUPP
	}
	var peer tcpip.FullAddress
	ep, wq, err := so.endpoint().Accept(&peer)
	if err != nil {
		if _, ok := err.(*tcpip.ErrInvalidEndpointState); ok {
			return nil, peer, unix.EINVAL // not listening, as on Linux
		}
		return nil, peer, errnoOf(err)
	}
	nso := wrap(ep, wq, so.Family, so.Type, so.Protocol)
	nso.stack, nso.netProto = so.stack, so.netProto
	return nso, peer, nil
}

// RecvFlags select recv(2) behaviour.
type RecvFlags struct {
	Peek           bool
	NeedRemoteAddr bool
	DontWait       bool // MSG_DONTWAIT: this call does not wait
	WaitAll        bool // MSG_WAITALL: a blocking stream receive fills the buffer
	OOB            bool // MSG_OOB: there is never urgent data to read
	// MSG_TRUNC: a stream receive takes (or with Peek counts) the bytes
	// without copying them; a datagram one returns its whole length.
	Trunc bool
	// MSG_ERRQUEUE: no error queue is kept, so it is always empty (EAGAIN).
	ErrQueue bool
}

// RecvResult describes one receive.
type RecvResult struct {
	N     int               // bytes copied into the buffer
	Total int               // bytes of the datagram (> N when truncated)
	From  tcpip.FullAddress // sender, when asked for
	EOF   bool              // stream closed by the peer (N == 0)
	// Discarded: the N bytes were taken but not copied (MSG_TRUNC on a
	// stream); the caller's buffer is left as it was.
	Discarded bool
}

// recvOnce copies received data into b. It returns EAGAIN when nothing is
// there yet; a stream whose peer closed returns N == 0 with EOF set.
func (so *Socket) recvOnce(b []byte, flags RecvFlags) (RecvResult, error) {
	stream := so.Type == unix.SOCK_STREAM
	if c := so.coal.Load(); c != nil {
		c.prevSmall.Store(false)
	}
	if flags.ErrQueue {
		return RecvResult{}, unix.EAGAIN // Linux, with nothing queued: never waits
	}
	if stream {
		if e := so.takeDropped(); e != 0 {
			return RecvResult{}, e
		}
	}
	if flags.OOB && stream {
		// Urgent data is never kept (nor inlined); Linux says EINVAL
		// when there is none to read. Datagram sockets ignore the flag.
		return RecvResult{}, unix.EINVAL
	}
	var dst io.Writer
	opts := tcpip.ReadOptions{Peek: flags.Peek, NeedRemoteAddr: flags.NeedRemoteAddr}
	switch {
	case len(b) > 0 && stream && flags.Trunc:
		dst = &tcpip.LimitedWriter{W: discard{}, N: int64(len(b))}
	case len(b) > 0:
		w := tcpip.SliceWriter(b)
		dst = &w
	case stream:
		// Linux: nothing is taken, but the call still waits for data
		// (EAGAIN without it) and reports EOF or an error.
		var one [1]byte
		w := tcpip.SliceWriter(one[:])
		dst, opts.Peek = &w, true
	default:
		// Linux takes the datagram and copies nothing of it.
		dst = discard{}
	}
	res, err := so.endpoint().Read(dst, opts)
	if err != nil {
		switch err.(type) {
		case *tcpip.ErrClosedForReceive:
			if so.Type != unix.SOCK_STREAM && flags.DontWait {
				return RecvResult{}, unix.EAGAIN // Linux: no datagram, shut or not
			}
			return RecvResult{EOF: true}, nil
		case *tcpip.ErrInvalidEndpointState, *tcpip.ErrNotConnected:
			if so.Type == unix.SOCK_STREAM {
				if so.readShut() {
					// Linux: shut for reading while unconnected reads EOF.
					return RecvResult{EOF: true}, nil
				}
				return RecvResult{}, unix.ENOTCONN
			}
		case *tcpip.ErrWouldBlock:
			if !flags.DontWait && so.udpReadShut.Load() {
				return RecvResult{EOF: true}, nil // Linux: shut and empty, no wait
			}
		case *tcpip.ErrConnectionReset, *tcpip.ErrTimeout, *tcpip.ErrConnectionRefused:
			so.markErrTaken()
		}
		return RecvResult{}, errnoOf(err)
	}
	return RecvResult{N: min(res.Count, len(b)), Total: res.Total, From: res.RemoteAddr,
		Discarded: stream && flags.Trunc}, nil
}

// discard takes all it is given, for a zero-length datagram receive.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func (so *Socket) markErrTaken() {
	so.mu.Lock()
	so.errTaken = true
	so.mu.Unlock()
}

// SendFlags select send(2) behaviour.
type SendFlags struct {
	More bool // MSG_MORE
	OOB  bool // MSG_OOB: datagram sockets refuse it; a stream sends the byte in band
	// MSG_DONTWAIT: this call does not wait.
	DontWait bool
	// MSG_NOSIGNAL: a broken stream gives plain EPIPE, not BrokenPipe.
	NoSignal bool
}

var readerPool = sync.Pool{New: func() any { return new(bytes.Reader) }}

// sendOnce queues b for transmission, to the connected peer or to `to`. It may
// accept only part of b; it returns EAGAIN when no byte fits now.
func (so *Socket) sendOnce(b []byte, to *tcpip.FullAddress, flags SendFlags) (int, error) {
	if flags.OOB && so.Type != unix.SOCK_STREAM {
		return 0, unix.EOPNOTSUPP // Linux: no urgent data without a stream
	}
	if to != nil {
		if err := so.needScope(*to); err != nil {
			return 0, err
		}
		if so.v6onlyRefuses(*to) {
			return 0, unix.ENETUNREACH
		}
	}
	if so.corking(flags.More) {
		return so.corkSend(b, to, flags.More)
	}
	if so.Type == unix.SOCK_STREAM {
		if e := so.takeDropped(); e != 0 {
			return 0, e
		}
	}
	if to == nil && !flags.More {
		if f := so.udpFastOf(); f != nil {
			if n, err, handled := so.sendUDPFast(f, b); handled {
				return n, err
			}
		}
	}
	if c := so.coal.Load(); c != nil {
		if n, err, handled := c.send(b); handled {
			return n, err
		}
	}
	r := readerPool.Get().(*bytes.Reader)
	r.Reset(b)
	n, err := so.endpoint().Write(r, tcpip.WriteOptions{To: to, More: flags.More})
	r.Reset(nil)
	readerPool.Put(r)
	if err != nil {
		if _, ok := err.(*tcpip.ErrInvalidEndpointState); ok && so.Type == unix.SOCK_STREAM {
			return 0, unix.ENOTCONN
		}
		return int(n), errnoOf(err)
	}
	return int(n), nil
}

// Shutdown closes one or both directions (SHUT_RD, SHUT_WR, SHUT_RDWR).
func (so *Socket) Shutdown(how int) error {
	defer so.udpFastChanged()
	var flags tcpip.ShutdownFlags
	switch how {
	case unix.SHUT_RD:
		flags = tcpip.ShutdownRead
	case unix.SHUT_WR:
		flags = tcpip.ShutdownWrite
	case unix.SHUT_RDWR:
		flags = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return unix.EINVAL
	}
	if c := so.coal.Load(); c != nil && c.deferShutdown(flags) {
		// Buffered bytes go first; the flusher sends the FIN after them.
		var err tcpip.Error
		if flags&tcpip.ShutdownRead != 0 {
			err = so.endpoint().Shutdown(tcpip.ShutdownRead)
		}
		so.mu.Lock()
		so.shutRead = so.shutRead || flags&tcpip.ShutdownRead != 0
		so.shutWrite = true
		so.mu.Unlock()
		// gVisor's Shutdown is not called yet, so nothing told the
		// waiters: a writer blocked on the full buffer must fail now
		// and a poller see POLLOUT, as Linux's shutdown wakes them.
		so.wq.Notify(allEvents)
		return errOrNil(err)
	}
	if so.Protocol == unix.IPPROTO_UDP && so.Type == unix.SOCK_DGRAM {
		return so.shutdownUDP(flags)
	}
	listener := so.Listening()
	err := so.endpoint().Shutdown(flags)
	_, unconnected := err.(*tcpip.ErrNotConnected)
	switch {
	case listener:
		if flags&tcpip.ShutdownRead != 0 && err == nil {
			// Linux disconnects a listener shut for reading: it stops
			// listening and keeps no direction shut.
			so.mu.Lock()
			so.listening = false
			so.mu.Unlock()
		}
	case err == nil || so.Type != unix.SOCK_STREAM || unconnected:
		// Linux keeps the directions shut even when it answers ENOTCONN.
		so.mu.Lock()
		so.shutRead = so.shutRead || flags&tcpip.ShutdownRead != 0
		so.shutWrite = so.shutWrite || flags&tcpip.ShutdownWrite != 0
		so.mu.Unlock()
	}
	return errOrNil(err)
}

// shutdownUDP is Shutdown on a UDP socket. Linux keeps queueing the
// datagrams that arrive after SHUT_RD (a receive takes them; with none
// queued it returns 0 instead of waiting) where gVisor drops them, so the
// read side is kept here and only SHUT_WR reaches gVisor. ENOTCONN, as
// Linux, when not connected; the directions are shut all the same.
func (so *Socket) shutdownUDP(flags tcpip.ShutdownFlags) error {
	var err tcpip.Error
	if flags&tcpip.ShutdownWrite != 0 {
		err = so.endpoint().Shutdown(tcpip.ShutdownWrite)
	} else if _, e := so.endpoint().GetRemoteAddress(); e != nil {
		err = &tcpip.ErrNotConnected{}
	}
	so.mu.Lock()
	so.shutRead = so.shutRead || flags&tcpip.ShutdownRead != 0
	so.shutWrite = so.shutWrite || flags&tcpip.ShutdownWrite != 0
	so.mu.Unlock()
	if flags&tcpip.ShutdownRead != 0 {
		so.udpReadShut.Store(true)
		so.wq.Notify(EventIn) // a blocked receive returns now
	}
	return errOrNil(err)
}

func (so *Socket) writeShut() bool {
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.shutWrite
}

func (so *Socket) readShut() bool {
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.shutRead
}

// Listening is SO_ACCEPTCONN: listen was called and neither shutdown
// for reading nor connect(AF_UNSPEC) ended it since (gVisor's endpoint
// stays in its listen state after those).
func (so *Socket) Listening() bool {
	if so.Type != unix.SOCK_STREAM || tcp.EndpointState(so.endpoint().State()) != tcp.StateListen {
		return false
	}
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.listening
}

// Release releases the endpoint at once, without lingering (Close
// lingers first). Waiters are woken so they see EBADF.
func (so *Socket) Release() error {
	defer so.udpFastChanged() // a send racing the close goes gVisor's way
	so.mu.Lock()
	if so.closed {
		so.mu.Unlock()
		return unix.EBADF
	}
	so.closed = true
	if x := so.extra.Load(); x != nil && x.synTimer != nil {
		x.synTimer.Stop()
	}
	so.mu.Unlock()
	if c := so.coal.Load(); c == nil || !c.deferClose() {
		so.endpoint().Close()
	}
	so.wq.Notify(allEvents) // through the queue: Go waiters listen there too
	so.wq.EventUnregister(&so.entry)
	so.SetNotify(nil)
	return nil
}

// FinPending says whether a stream socket's FIN still waits to be sent or
// acknowledged (what a lingering close waits for, as Linux's does).
func (so *Socket) FinPending() bool {
	if so.Type != unix.SOCK_STREAM {
		return false
	}
	switch tcp.EndpointState(so.endpoint().State()) {
	case tcp.StateEstablished, tcp.StateCloseWait, tcp.StateFinWait1, tcp.StateClosing, tcp.StateLastAck:
		return true
	}
	return false
}

// Readiness returns which of mask's events are ready now, by Poll's
// rules (the coalescing buffer, Linux's shutdown states), so that it,
// Wait and poll(2) never disagree.
func (so *Socket) Readiness(mask waiter.EventMask) waiter.EventMask {
	return waiter.EventMask(so.Poll(uint32(mask))) & mask
}

// Wait blocks the calling goroutine until one of mask's events is ready or
// the deadline passes (zero: no deadline). For Go callers of the
// non-blocking operations; C callers wait on their own side.
func (so *Socket) Wait(mask waiter.EventMask, deadline time.Time) error {
	entry, ch := waiter.NewChannelEntry(mask)
	so.wq.EventRegister(&entry)
	defer so.wq.EventUnregister(&entry)
	// Poll's rules, not gVisor's: they count the send buffer in front of
	// gVisor and follow Linux around shutdown (writable once shut).
	if waiter.EventMask(so.Poll(uint32(mask)))&mask != 0 {
		return nil
	}
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ch:
		return nil
	case <-timeout:
		return unix.EAGAIN
	}
}

// LocalAddr returns the bound address (getsockname).
func (so *Socket) LocalAddr() (tcpip.FullAddress, error) {
	a, err := so.endpoint().GetLocalAddress()
	return a, errOrNil(err)
}

// RemoteAddr returns the peer address (getpeername).
func (so *Socket) RemoteAddr() (tcpip.FullAddress, error) {
	a, err := so.endpoint().GetRemoteAddress()
	if err != nil {
		return a, unix.ENOTCONN
	}
	return a, nil
}

func errOrNil(err tcpip.Error) error {
	if err == nil {
		return nil
	}
	return errnoOf(err)
}

// needScope: Linux refuses a link-local IPv6 destination without a scope
// id unless the socket is bound to a device.
func (so *Socket) needScope(full tcpip.FullAddress) error {
	if full.Addr.Len() != 16 || full.NIC != 0 {
		return nil
	}
	if a := full.Addr.As16(); a[0] == 0xfe && a[1]&0xc0 == 0x80 && so.endpoint().SocketOptions().GetBindToDevice() == 0 {
		return unix.EINVAL
	}
	return nil
}
