package tap

import (
	"errors"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// txScratch is reused through a sync.Pool so that the write path does not
// allocate per packet.
type txScratch struct {
	hdr [vnetHdrLen]byte
	iov []unix.Iovec
	uso []byte // a merged UDP frame being built (uso.go)
}

// How long a writer waits for room when the TAP queue is full before
// dropping the frame (TCP recovers; the stack must not block for long).
const (
	txFullRetries = 3
	txFullWait    = 10 * time.Millisecond
)

// WritePackets implements stack.LinkWriter: one writev per packet, the
// virtio-net header first in offload mode; with Options.USO, one per run
// of UDP datagrams of a flow (uso.go). A frame the kernel cannot take is
// dropped and counted, as on a real wire.
func (e *Endpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return 0, &tcpip.ErrClosedForSend{}
	}
	sc := e.txPool.Get().(*txScratch)
	defer e.txPool.Put(sc)
	sent := 0
	list := pkts.AsSlice()
	for len(list) > 0 {
		n := 1
		var err tcpip.Error
		if e.uso {
			n = usoRun(list)
		}
		if n > 1 {
			err = e.writeUSO(sc, list[:n])
		} else {
			err = e.writeOne(sc, list[0])
		}
		if err != nil {
			if sent == 0 {
				return 0, err
			}
			break
		}
		sent += n
		list = list[n:]
	}
	return sent, nil
}

func (e *Endpoint) writeOne(sc *txScratch, pkt *stack.PacketBuffer) tcpip.Error {
	iov := sc.iov[:0]
	gso := false
	if e.vnet {
		gso = e.fillVnetHdr(&sc.hdr, pkt)
		var v unix.Iovec
		v.Base = &sc.hdr[0]
		v.SetLen(vnetHdrLen)
		iov = append(iov, v)
	}
	size := 0
	views, off := pkt.AsViewList()
	for v := views.Front(); v != nil; v = v.Next() {
		s := v.AsSlice()
		if off >= len(s) {
			off -= len(s)
			continue
		}
		s = s[off:]
		off = 0
		var io unix.Iovec
		io.Base = &s[0]
		io.SetLen(len(s))
		iov = append(iov, io)
		size += len(s)
	}
	sc.iov = iov // keep a grown backing array for next time
	errno := e.writev(iov)
	clear(iov) // do not pin packet memory from the pool
	e.carrier(errno)
	switch errno {
	case 0:
		e.stats.txFrames.Add(1)
		e.stats.txBytes.Add(uint64(size))
		if gso {
			e.stats.txGSO.Add(1)
		}
		return nil
	case unix.EBADFD, unix.EIO, unix.ENXIO:
		e.stats.txDropped.Add(1)
		return &tcpip.ErrClosedForSend{}
	default:
		e.stats.txDropped.Add(1)
		return nil
	}
}

func (e *Endpoint) writev(iov []unix.Iovec) unix.Errno {
	for try := 0; ; {
		_, _, errno := unix.RawSyscall(unix.SYS_WRITEV, uintptr(e.fd),
			uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		switch {
		case errno == unix.EINTR:
			continue
		case errno == unix.EAGAIN && try < txFullRetries:
			try++
			pfd := [1]unix.PollFd{{Fd: int32(e.fd), Events: unix.POLLOUT}}
			_, _ = unix.Poll(pfd[:], int(txFullWait/time.Millisecond))
			continue
		}
		return errno
	}
}

// fillVnetHdr describes pkt to the kernel: a partial TCP checksum to finish
// and, for a segment longer than the MSS, how to cut it. It reports whether
// the packet is a GSO packet.
func (e *Endpoint) fillVnetHdr(b *[vnetHdrLen]byte, pkt *stack.PacketBuffer) bool {
	var h vnetHdr
	g := &pkt.GSOOptions
	gso := false
	if g.Type != stack.GSONone && g.NeedsCsum {
		h.flags = vnetFlagNeedsCsum
		h.csumStart = uint16(len(pkt.LinkHeader().Slice()) + len(pkt.NetworkHeader().Slice()))
		h.csumOffset = g.CsumOffset
		if g.MSS != 0 && pkt.Data().Size() > int(g.MSS) {
			switch g.Type {
			case stack.GSOTCPv4:
				h.gsoType = vnetGSOTCPv4
			case stack.GSOTCPv6:
				h.gsoType = vnetGSOTCPv6
			}
			if h.gsoType != vnetGSONone {
				h.gsoSize = g.MSS
				h.hdrLen = uint16(pkt.HeaderSize())
				gso = true
			}
		}
	}
	h.encode(b[:])
	return gso
}

// ErrFrameSize is returned by WriteFrame for a frame shorter than an
// Ethernet header or longer than any TAP takes.
var ErrFrameSize = errors.New("tap: frame size out of range")

// maxRawFrame is the largest frame WriteFrame passes on: a full 64 KiB IP
// packet plus its Ethernet header, what a TAP without GSO accepts at most.
const maxRawFrame = MaxMTU + header.EthernetMinimumSize

// WriteFrame writes one complete Ethernet frame to the TAP, bypassing the
// stack (tapif_io's tapio_output). In offload mode it goes with an empty
// virtio-net header: no checksum to finish, no segmentation. A full TAP
// queue drops the frame as it does for the stack's own packets.
func (e *Endpoint) WriteFrame(frame []byte) error {
	if len(frame) < header.EthernetMinimumSize || len(frame) > maxRawFrame {
		return ErrFrameSize
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return unix.EBADF
	}
	var hdr [vnetHdrLen]byte
	iov := make([]unix.Iovec, 0, 2)
	if e.vnet {
		var v unix.Iovec
		v.Base = &hdr[0]
		v.SetLen(vnetHdrLen)
		iov = append(iov, v)
	}
	var v unix.Iovec
	v.Base = &frame[0]
	v.SetLen(len(frame))
	iov = append(iov, v)
	errno := e.writev(iov)
	e.carrier(errno)
	if errno != 0 {
		e.stats.txDropped.Add(1)
		return errno
	}
	e.stats.txFrames.Add(1)
	e.stats.txBytes.Add(uint64(len(frame)))
	return nil
}
