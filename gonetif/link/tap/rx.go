package tap

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

const (
	// rxFirstSize holds any MTU-sized frame; only larger (GSO) frames spill
	// into the second view, so small frames never pin a 64 KiB chunk.
	rxFirstSize = 2048
	// rxCapacity is the largest frame we read: a 64 KiB GSO frame plus
	// Ethernet and VLAN headers, rounded up.
	rxCapacity = 65536 + 64
	// rxCopyMax: frames up to this size are copied into a view of their
	// own size class and the read view is reused. The stack may keep a
	// frame long (a fragment waits up to 60 s for the rest of its
	// datagram) and bounds what it keeps by the frame's length, so a
	// 60-byte fragment pinning a 2 KiB view made a flood of fragments
	// cost 35-45 MB instead of the few MB the bound means.
	rxCopyMax = rxFirstSize / 2
)

// rxState is owned by the reader goroutine. Views are read into in place
// and handed to the stack without copying; only consumed views are replaced.
type rxState struct {
	hdr   [vnetHdrLen]byte
	first *buffer.View
	rest  *buffer.View
	iov   [3]unix.Iovec
}

// prepare allocates missing views and returns the iovecs to read into.
func (rx *rxState) prepare(vnet bool) []unix.Iovec {
	if rx.first == nil {
		rx.first = buffer.NewViewSizeUncleared(rxFirstSize) // read into before anyone sees it
	}
	if rx.rest == nil {
		rx.rest = buffer.NewViewSizeUncleared(rxCapacity - rxFirstSize)
	}
	n := 0
	if vnet {
		rx.iov[n].Base = &rx.hdr[0]
		rx.iov[n].SetLen(vnetHdrLen)
		n++
	}
	for _, v := range [2]*buffer.View{rx.first, rx.rest} {
		s := v.AsSlice()
		rx.iov[n].Base = &s[0]
		rx.iov[n].SetLen(len(s))
		n++
	}
	return rx.iov[:n]
}

func (rx *rxState) release() {
	for _, v := range [2]*buffer.View{rx.first, rx.rest} {
		if v != nil {
			v.Release()
		}
	}
	rx.first, rx.rest = nil, nil
	rx.iov = [3]unix.Iovec{}
}

// readLoop drains every available frame, then sleeps in poll(2) on the TAP
// and the eventfd that Close signals.
func (e *Endpoint) readLoop(exited chan struct{}) {
	failed := false
	defer func() { e.readerExited(failed, exited) }()
	var rx rxState
	defer rx.release()
	pfd := [2]unix.PollFd{
		{Fd: int32(e.fd), Events: unix.POLLIN},
		{Fd: int32(e.evfd), Events: unix.POLLIN},
	}
	for !e.closing.Load() && !e.stopReader.Load() {
		for !e.closing.Load() && !e.stopReader.Load() {
			iov := rx.prepare(e.vnet)
			// The fd is non-blocking, so a raw syscall cannot stall the P.
			n, _, errno := unix.RawSyscall(unix.SYS_READV, uintptr(e.fd),
				uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
			if errno == unix.EINTR {
				continue
			}
			if errno == unix.EAGAIN {
				break
			}
			if errno != 0 {
				// EBADFD or EIO: the interface was deleted under us.
				e.stats.rxErrors.Add(1)
				failed = true
				return
			}
			e.deliver(&rx, int(n))
		}
		// Frames just delivered have made the stack's goroutines runnable
		// on this P. Let them run now: once we sit in poll(2) the P waits
		// for sysmon to hand it off, which costs up to milliseconds.
		runtime.Gosched()
		for i := range pfd {
			pfd[i].Revents = 0
		}
		if _, err := unix.Poll(pfd[:], -1); err != nil && err != unix.EINTR {
			e.stats.rxErrors.Add(1)
			failed = true
			return
		}
		if pfd[1].Revents != 0 && !e.closing.Load() && !e.stopReader.Load() {
			var b [8]byte
			_, _ = unix.Read(e.evfd, b[:]) // stale wake-up: do not spin on it
		}
	}
}

// deliver validates one frame of n bytes (vnet header included) and passes
// it to the stack. Bad frames are counted and dropped; their views are
// reused for the next read.
func (e *Endpoint) deliver(rx *rxState, n int) {
	frameLen := n
	var vh vnetHdr
	if e.vnet {
		if n < vnetHdrLen {
			e.stats.rxMalformed.Add(1)
			return
		}
		vh.decode(rx.hdr[:])
		frameLen -= vnetHdrLen
	}
	// tun reports the full length even when it truncated the frame.
	if frameLen < header.EthernetMinimumSize || frameLen > rxCapacity {
		e.stats.rxMalformed.Add(1)
		return
	}
	dp := e.dispatcher.Load()
	if dp == nil {
		e.stats.rxDropped.Add(1)
		return
	}
	a := rx.first.AsSlice()
	var b []byte
	if frameLen > len(a) {
		b = rx.rest.AsSlice()[:frameLen-len(a)]
	} else {
		a = a[:frameLen]
	}
	dst := tcpip.LinkAddress(a[:header.EthernetAddressSize])
	pktType := tcpip.PacketHost
	switch {
	case dst == header.EthernetBroadcastAddress:
		pktType = tcpip.PacketBroadcast
	case header.IsMulticastEthernetAddress(dst):
		pktType = tcpip.PacketMulticast
	case dst != e.LinkAddress():
		// A NIC filters unicast for others; a bridged TAP floods it to us.
		e.stats.rxDropped.Add(1)
		return
	}
	gso := false
	if e.vnet {
		switch vh.gsoType &^ vnetGSOECN {
		case vnetGSONone:
		case vnetGSOTCPv4, vnetGSOTCPv6:
			gso = true
		default: // UDP fragmentation offload was never enabled
			e.stats.rxMalformed.Add(1)
			return
		}
		switch {
		case vh.flags&vnetFlagNeedsCsum != 0:
			if int(vh.csumStart)+int(vh.csumOffset)+2 > frameLen {
				e.stats.rxMalformed.Add(1)
				return
			}
		case vh.flags&vnetFlagDataValid != 0:
		default:
			if !frameChecksumsOK(a, b) {
				e.stats.rxBadChecksum.Add(1)
				return
			}
		}
	}

	var buf buffer.Buffer
	switch {
	case b == nil && frameLen <= rxCopyMax:
		buf = buffer.MakeWithData(a)
	case b == nil:
		rx.first.CapLength(frameLen)
		buf = buffer.MakeWithView(rx.first)
		rx.first = nil
	default:
		rx.rest.CapLength(len(b))
		buf = buffer.MakeWithView(rx.first)
		_ = buf.Append(rx.rest) // first is full, so this links rest without copying
		rx.first, rx.rest = nil, nil
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buf})
	eth, _ := pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	pkt.PktType = pktType
	e.stats.rxFrames.Add(1)
	e.stats.rxBytes.Add(uint64(frameLen))
	if gso {
		e.stats.rxGSO.Add(1)
	}
	e.deliverSeq.Add(1)
	(*dp).DeliverNetworkPacket(header.Ethernet(eth).Type(), pkt)
	e.deliverSeq.Add(1)
	pkt.DecRef()
}

// readerExited releases the TAP if Close already ran (otherwise Close
// will), or restarts reading if a dispatcher was attached again meanwhile.
func (e *Endpoint) readerExited(failed bool, exited chan struct{}) {
	var b [8]byte
	_, _ = unix.Read(e.evfd, b[:]) // consume our wake-up so a new reader sleeps
	e.startMu.Lock()
	e.running = false
	release := e.closeCalled
	if !release && !failed && e.dispatcher.Load() != nil {
		e.startReaderLocked()
	}
	e.startMu.Unlock()
	if release {
		e.release()
	}
	close(exited)
}
