// Package tap is a gVisor link endpoint for a Linux TAP device: the fast
// path of gonetif.
//
// Open attaches to an existing (normally persistent, user-owned) TAP
// interface. By default the TAP is opened with IFF_VNET_HDR and TCP
// segmentation/checksum offload, so gVisor hands the kernel TCP segments of
// up to 64 KiB with partial checksums and the kernel hands back large,
// checksum-partial frames; Options.Plain turns every offload off.
//
// The endpoint is an Ethernet link: it adds and parses the Ethernet header
// itself (rather than wrapping a raw endpoint in gVisor's link/ethernet)
// because the virtio-net header's csum_start is counted from the start of the
// frame, so the layer that writes it has to know the link header anyway, and
// one layer less means one lock less per packet.
//
// Like a NIC, the endpoint drops unicast frames addressed to another MAC
// (a bridged TAP floods them). In offload mode it advertises RX checksum
// offload: checksum-partial and kernel-verified frames are trusted, any
// other frame has its IPv4 header and TCP/UDP checksums verified here.
//
// Typical use:
//
//	ep, err := tap.Open(tap.Options{Name: "tap0"})
//	if err != nil { ... } // *tap.Error; errors.Is(err, unix.ENODEV) etc.
//	s.CreateNIC(1, ep)    // the stack closes ep when the NIC goes away
//	...
//	s.Destroy()           // or ep.Close(); ep.Wait()
package tap

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

var (
	_ stack.LinkEndpoint = (*Endpoint)(nil)
	_ stack.GSOEndpoint  = (*Endpoint)(nil)
)

// Endpoint is a stack.LinkEndpoint on a TAP file descriptor. It starts one
// reader goroutine when first attached to a stack. All methods are safe for
// concurrent use.
type Endpoint struct {
	name  string
	fd    int
	evfd  int // eventfd that wakes the reader on Close
	vnet  bool
	mtu   atomic.Uint32
	addr  atomic.Pointer[tcpip.LinkAddress]
	stats counters

	dispatcher atomic.Pointer[stack.NetworkDispatcher]

	// mu is held shared by writers while they use fd; Close takes it
	// exclusively so the fd is never closed under a writer.
	mu      sync.RWMutex
	closed  bool
	closing atomic.Bool

	// startMu guards the reader's life cycle. gVisor detaches (Attach(nil))
	// and then calls Wait before it calls Close, so detaching must stop the
	// reader too; the fds are released by whichever of Close and the exiting
	// reader comes last.
	startMu     sync.Mutex
	running     bool // a reader goroutine exists
	closeCalled bool
	stopReader  atomic.Bool   // set by Attach(nil): current reader exits
	exited      chan struct{} // closed when the current reader returns
	// deliverSeq is odd while the reader is inside the stack; Wait uses it
	// to spot a reader blocked on a stack lock held by Wait's own caller.
	deliverSeq atomic.Uint64

	closeStarted atomic.Bool
	onClose      func()

	txPool sync.Pool // *txScratch
	uso    bool      // merge UDP runs of a batch (uso.go)

	// netpoll selects the reader that waits in Go's netpoller (see
	// netpoll.go); pollFile is its descriptor while it runs.
	netpoll  bool
	pollFile atomic.Pointer[os.File]

	// noCarrier is set while writes fail because the host side of the
	// TAP is down (EIO); warnf reports each change once.
	cr callerReads // GONETIF_TCP_RTC (rtc.go)

	noCarrier atomic.Bool
	warnf     func(format string, args ...any)
}

// Open opens the TAP interface described by opts.
//
// It always sets TUNSETOFFLOAD explicitly (0 in Plain mode) because offload
// flags persist on a persistent TAP after the previous user exits. On a TAP
// owned by the calling user no privilege is needed.
func Open(opts Options) (*Endpoint, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	fd := -1
	hostUp := true
	err := inNetNS(opts.Name, opts.NetNS, func() error {
		var err error
		if fd, err = attach(&opts); err == nil {
			hostUp = interfaceUp(opts.Name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := configure(fd, &opts); err != nil {
		unix.Close(fd)
		return nil, err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, newErr(opts.Name, "eventfd", err)
	}
	e := &Endpoint{name: opts.Name, fd: fd, evfd: evfd, vnet: !opts.Plain, netpoll: !opts.PollThread, warnf: opts.Warnf,
		uso: opts.USO && !opts.Plain}
	if !hostUp {
		e.noCarrier.Store(true)
		e.warn("TAP %s: no carrier: its host side is down, nothing passes until `ip link set %s up`", e.name, e.name)
	}
	e.mtu.Store(opts.MTU)
	e.SetCallerReads(opts.CallerReads)
	mac := opts.MAC
	e.addr.Store(&mac)
	e.cr.back = make(chan struct{}, 1)
	e.txPool.New = func() any { return &txScratch{iov: make([]unix.Iovec, 0, 8)} }
	return e, nil
}

// attach runs in the target namespace: it checks that the interface exists
// (unless Create) and binds a clone-device fd to it.
func attach(o *Options) (int, error) {
	if !o.Create {
		if err := lookup(o.Name); err != nil {
			return -1, err
		}
	}
	fd, err := unix.Open(o.Device, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, newErr(o.Name, "open", err)
	}
	ifr, err := unix.NewIfreq(o.Name)
	if err != nil {
		unix.Close(fd)
		return -1, newErr(o.Name, "check options", unix.EINVAL)
	}
	flags := uint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if !o.Plain {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return -1, newErr(o.Name, "TUNSETIFF", err)
	}
	if !o.Create {
		// The interface may have vanished between lookup and TUNSETIFF, in
		// which case a privileged caller just created a fresh one. A TAP we
		// may attach to without creating it is always persistent.
		if err := unix.IoctlIfreq(fd, unix.TUNGETIFF, ifr); err == nil && ifr.Uint16()&unix.IFF_PERSIST == 0 {
			unix.Close(fd) // destroys the interface we created
			return -1, newErr(o.Name, "lookup", unix.ENODEV)
		}
	}
	return fd, nil
}

// interfaceUp says whether the interface (in the current namespace) is
// administratively up; unknown counts as up.
func interfaceUp(name string) bool {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return true
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(name)
	if err != nil || unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr) != nil {
		return true
	}
	return ifr.Uint16()&unix.IFF_UP != 0
}

func (e *Endpoint) warn(format string, args ...any) {
	if e.warnf != nil {
		e.warnf(format, args...)
	}
}

// carrier records a write's outcome: EIO means the host side is down.
// Only changes are reported.
func (e *Endpoint) carrier(errno unix.Errno) {
	down := errno == unix.EIO
	if e.noCarrier.Load() == down || e.noCarrier.Swap(down) == down {
		return
	}
	if down {
		e.warn("TAP %s: no carrier: its host side went down, frames are dropped until `ip link set %s up`", e.name, e.name)
	} else {
		e.warn("TAP %s: carrier back", e.name)
	}
}

// lookup fails with ENODEV when the interface is missing in the current
// namespace (SIOCGIFINDEX on a socket opened here, which needs no privilege).
func lookup(name string) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		s, err = unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return newErr(name, "lookup", err)
		}
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return newErr(name, "check options", unix.EINVAL)
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFINDEX, ifr); err != nil {
		return newErr(name, "lookup", err)
	}
	return nil
}

// configure sets the vnet header layout and the offload flags.
func configure(fd int, o *Options) error {
	offload := 0
	if !o.Plain {
		if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, vnetHdrLen); err != nil {
			return newErr(o.Name, "TUNSETVNETHDRSZ", err)
		}
		// We encode the header little-endian; that is the kernel's choice on
		// little-endian hosts anyway, so only a big-endian host needs this.
		if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETLE, 1); err != nil && !littleEndianHost() {
			return newErr(o.Name, "TUNSETVNETLE", err)
		}
		offload = tunFCsum | tunFTSO4 | tunFTSO6
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, offload); err != nil {
		return newErr(o.Name, "TUNSETOFFLOAD", err)
	}
	return nil
}

// inNetNS runs fn on a fresh OS thread switched into the namespace at path
// ("" = run fn here). The thread is thrown away if switching back fails.
func inNetNS(name, path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	res := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			res <- newErr(name, "open current netns", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			res <- newErr(name, "open netns "+path, err)
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			res <- newErr(name, "setns "+path, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
		res <- ferr
	}()
	return <-res
}

func littleEndianHost() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// Name returns the TAP interface name.
func (e *Endpoint) Name() string { return e.name }

// Offload reports whether the endpoint runs with the virtio-net header and
// offloads (Options.Plain was false).
func (e *Endpoint) Offload() bool { return e.vnet }

// MTU implements stack.LinkEndpoint.
func (e *Endpoint) MTU() uint32 { return e.mtu.Load() }

// SetMTU implements stack.LinkEndpoint.
func (e *Endpoint) SetMTU(mtu uint32) { e.mtu.Store(mtu) }

// MaxHeaderLength implements stack.LinkEndpoint: the Ethernet header (the
// virtio-net header is written from a separate buffer).
func (e *Endpoint) MaxHeaderLength() uint16 { return header.EthernetMinimumSize }

// LinkAddress implements stack.LinkEndpoint.
func (e *Endpoint) LinkAddress() tcpip.LinkAddress { return *e.addr.Load() }

// SetLinkAddress implements stack.LinkEndpoint.
func (e *Endpoint) SetLinkAddress(addr tcpip.LinkAddress) { e.addr.Store(&addr) }

// Capabilities implements stack.LinkEndpoint.
func (e *Endpoint) Capabilities() stack.LinkEndpointCapabilities {
	c := stack.CapabilityResolutionRequired
	if e.vnet {
		c |= stack.CapabilityRXChecksumOffload
	}
	return c
}

// GSOMaxSize implements stack.GSOEndpoint.
func (e *Endpoint) GSOMaxSize() uint32 {
	if e.vnet {
		return GSOMaxSize
	}
	return 0
}

// SupportedGSO implements stack.GSOEndpoint: host GSO in offload mode.
func (e *Endpoint) SupportedGSO() stack.SupportedGSO {
	if e.vnet {
		return stack.HostGSOSupported
	}
	return stack.GSONotSupported
}

// ARPHardwareType implements stack.LinkEndpoint.
func (e *Endpoint) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareEther }

// AddHeader implements stack.LinkEndpoint.
func (e *Endpoint) AddHeader(pkt *stack.PacketBuffer) {
	src := pkt.EgressRoute.LocalLinkAddress
	if src == "" {
		src = e.LinkAddress()
	}
	eth := header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize))
	eth.Encode(&header.EthernetFields{
		SrcAddr: src,
		DstAddr: pkt.EgressRoute.RemoteLinkAddress,
		Type:    pkt.NetworkProtocolNumber,
	})
}

// ParseHeader implements stack.LinkEndpoint.
func (e *Endpoint) ParseHeader(pkt *stack.PacketBuffer) bool {
	_, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	return ok
}

// Attach implements stack.LinkEndpoint. A dispatcher starts the reader
// goroutine; nil stops it without waiting (Wait waits). Frames that arrive
// while a stopping reader still runs are dropped and counted.
func (e *Endpoint) Attach(d stack.NetworkDispatcher) {
	e.startMu.Lock()
	defer e.startMu.Unlock()
	if d == nil {
		e.dispatcher.Store(nil)
		if e.running {
			e.stopReader.Store(true)
			e.wake()
		}
		return
	}
	e.dispatcher.Store(&d)
	if !e.running && !e.closeCalled {
		e.startReaderLocked()
	}
}

func (e *Endpoint) startReaderLocked() {
	e.running = true
	e.stopReader.Store(false)
	e.exited = make(chan struct{})
	if e.netpoll {
		go e.readLoopNetpoll(e.exited)
	} else {
		go e.readLoop(e.exited)
	}
}

// wake makes the reader's poll return.
func (e *Endpoint) wake() {
	var one [8]byte
	one[0] = 1 // eventfd counters are host-endian; any non-zero value wakes
	_, _ = unix.Write(e.evfd, one[:])
	select {
	case e.cr.back <- struct{}{}: // a reader away for callers (rtc.go)
	default:
	}
	if f := e.pollFile.Load(); f != nil {
		_ = f.SetReadDeadline(time.Unix(1, 0)) // a past deadline wakes the netpoll reader
	}
}

// IsAttached implements stack.LinkEndpoint.
func (e *Endpoint) IsAttached() bool { return e.dispatcher.Load() != nil }

// stuckAfter is how long a stopping reader may sit in one delivery before
// Wait assumes it is blocked on a lock of Wait's caller.
const stuckAfter = 100 * time.Millisecond

// Wait implements stack.LinkEndpoint: after Close (or Attach(nil)) it
// returns once the reader goroutine has stopped, and after Close the TAP has
// then been released.
//
// gVisor's Stack.Wait calls Wait while holding the stack lock, which a
// frame being delivered may need (e.g. to send a RST). If the stopping
// reader stays inside one delivery for stuckAfter, Wait returns anyway; the
// reader exits (and releases the TAP after Close) once the lock is free.
func (e *Endpoint) Wait() {
	for {
		e.startMu.Lock()
		running, exited := e.running, e.exited
		e.startMu.Unlock()
		if !running {
			return
		}
		seq := e.deliverSeq.Load()
		t := time.NewTimer(stuckAfter)
		select {
		case <-exited:
			t.Stop()
			continue // a new reader may have been started meanwhile
		case <-t.C:
		}
		stopping := e.stopReader.Load() || e.closing.Load()
		if stopping && seq%2 == 1 && e.deliverSeq.Load() == seq {
			return
		}
	}
}

// SetOnCloseAction implements stack.LinkEndpoint.
func (e *Endpoint) SetOnCloseAction(f func()) {
	e.startMu.Lock()
	e.onClose = f
	e.startMu.Unlock()
}

// Close implements stack.LinkEndpoint. It returns at once: writers stop
// immediately, the reader stops within one poll wake-up and then releases
// the TAP (Wait waits for that). Calling Close more than once is safe.
func (e *Endpoint) Close() {
	// The stack's close action removes the NIC, which calls Close again:
	// run it outside any lock, once.
	e.startMu.Lock()
	action := e.onClose
	e.onClose = nil
	e.startMu.Unlock()
	if action != nil {
		action()
	}
	if !e.closeStarted.CompareAndSwap(false, true) {
		return
	}
	e.closing.Store(true)
	e.mu.Lock() // waits for writers in flight
	e.closed = true
	e.mu.Unlock()
	e.startMu.Lock()
	e.closeCalled = true
	release := !e.running
	if e.running {
		e.wake()
	}
	e.startMu.Unlock()
	if release {
		e.release()
	}
}

// release closes the descriptors, once: see Close and readerExited.
func (e *Endpoint) release() {
	unix.Close(e.fd)
	unix.Close(e.evfd)
	e.cr.mu.Lock()
	e.cr.rx.release()
	e.cr.mu.Unlock()
}
