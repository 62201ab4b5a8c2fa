// Package capture is a link layer that records every frame passing through
// it, in and out, to a pcap file that Wireshark and tshark read.
//
// gVisor's link/sniffer was not used: it writes LINKTYPE_RAW (no Ethernet
// header, so ARP frames come out as garbage), logs every packet through a
// package-global switch that is on by default, panics when a write fails,
// and does not serialize writes from the receive and transmit goroutines.
// The pcap format is two fixed headers, so it is written here directly
// rather than pulling in a packet library.
//
// GSO super-segments (up to 64 KiB) are recorded as the single frame the
// stack handed to the link, with the partial TCP checksum the kernel
// completes later; tshark does not check TCP checksums by default.
package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

var (
	_ stack.LinkEndpoint      = (*Endpoint)(nil)
	_ stack.GSOEndpoint       = (*Endpoint)(nil)
	_ stack.NetworkDispatcher = (*Endpoint)(nil)
)

const (
	// DefaultSnapLen is used when snapLen is 0; it holds a whole GSO frame.
	DefaultSnapLen = 262144

	magicNanos     = 0xa1b23c4d // pcap with nanosecond timestamps
	linkTypeEther  = 1
	linkTypeRaw    = 101 // bare IPv4/IPv6 packets
	pcapRecordHead = 16
)

// FlushInterval bounds how long a recorded frame stays in the capture's
// buffer: a process that dies without closing the capture (SIGKILL, a
// crash, an exit that skips FlushAll) loses at most the frames of the last
// FlushInterval.
const FlushInterval = 100 * time.Millisecond

// ErrStopped is returned by Flush after the capture was closed.
var ErrStopped = errors.New("capture: stopped")

// Endpoint wraps a link endpoint and copies each frame to a pcap stream.
// Writes are buffered and reach the writer at the latest FlushInterval after
// they were recorded, on Flush, FlushAll and close. A write error stops the
// capture (see Err); traffic is unaffected.
type Endpoint struct {
	nested.Endpoint
	snapLen uint32

	mu      sync.Mutex
	w       *bufio.Writer // nil once stopped
	file    io.Closer     // closed on stop when we opened it
	err     error
	timer   *time.Timer // flushes FlushInterval after the first unflushed frame
	pending bool        // timer armed
	head    [pcapRecordHead]byte
}

// live holds the captures not yet stopped, for FlushAll.
var live struct {
	sync.Mutex
	m map[*Endpoint]struct{}
}

// FlushAll writes out the buffered frames of every open capture of the
// process. C glue calls it at exit and on fatal signals, which Go code
// cannot see. It returns the first error.
func FlushAll() error {
	live.Lock()
	eps := make([]*Endpoint, 0, len(live.m))
	for e := range live.m {
		eps = append(eps, e)
	}
	live.Unlock()
	var first error
	for _, e := range eps {
		if err := e.Flush(); err != nil && !errors.Is(err, ErrStopped) && first == nil {
			first = err
		}
	}
	return first
}

// New wraps lower and writes a capture to a new file at path. The returned
// io.Closer stops the capture and closes the file; closing the endpoint
// (as the stack does when the NIC is removed) does the same.
func New(lower stack.LinkEndpoint, path string, snapLen uint32) (*Endpoint, io.Closer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, nil, err
	}
	e, err := newEndpoint(lower, f, snapLen)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	e.file = f
	return e, stopper{e}, nil
}

// NewWriter is New for any writer; the caller keeps ownership of w.
func NewWriter(lower stack.LinkEndpoint, w io.Writer, snapLen uint32) (*Endpoint, error) {
	return newEndpoint(lower, w, snapLen)
}

func newEndpoint(lower stack.LinkEndpoint, w io.Writer, snapLen uint32) (*Endpoint, error) {
	if snapLen == 0 {
		snapLen = DefaultSnapLen
	}
	linkType := uint32(linkTypeRaw)
	if lower.ARPHardwareType() == header.ARPHardwareEther {
		linkType = linkTypeEther
	}
	e := &Endpoint{snapLen: snapLen, w: bufio.NewWriterSize(w, 256<<10)}
	var fh [24]byte
	binary.LittleEndian.PutUint32(fh[0:], magicNanos)
	binary.LittleEndian.PutUint16(fh[4:], 2) // version 2.4
	binary.LittleEndian.PutUint16(fh[6:], 4)
	binary.LittleEndian.PutUint32(fh[16:], snapLen)
	binary.LittleEndian.PutUint32(fh[20:], linkType)
	if _, err := e.w.Write(fh[:]); err != nil {
		return nil, err
	}
	if err := e.w.Flush(); err != nil { // a readable (empty) capture at once
		return nil, err
	}
	e.timer = time.AfterFunc(time.Hour, e.timedFlush)
	e.timer.Stop()
	e.Endpoint.Init(lower, e)
	live.Lock()
	if live.m == nil {
		live.m = make(map[*Endpoint]struct{})
	}
	live.m[e] = struct{}{}
	live.Unlock()
	return e, nil
}

func (e *Endpoint) timedFlush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pending = false
	if e.w == nil {
		return
	}
	if err := e.w.Flush(); err != nil {
		e.failLocked(err)
	}
}

type stopper struct{ e *Endpoint }

func (s stopper) Close() error { return s.e.stop() }

// record appends one frame: the packet from its first header on.
func (e *Endpoint) record(pkt *stack.PacketBuffer) {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.w == nil {
		return
	}
	size := pkt.Size()
	incl := min(uint32(size), e.snapLen)
	binary.LittleEndian.PutUint32(e.head[0:], uint32(now.Unix()))
	binary.LittleEndian.PutUint32(e.head[4:], uint32(now.Nanosecond()))
	binary.LittleEndian.PutUint32(e.head[8:], incl)
	binary.LittleEndian.PutUint32(e.head[12:], uint32(size))
	_, err := e.w.Write(e.head[:])
	left := int(incl)
	views, off := pkt.AsViewList()
	for v := views.Front(); v != nil && left > 0 && err == nil; v = v.Next() {
		s := v.AsSlice()
		if off >= len(s) {
			off -= len(s)
			continue
		}
		s = s[off:]
		off = 0
		if len(s) > left {
			s = s[:left]
		}
		_, err = e.w.Write(s)
		left -= len(s)
	}
	if err != nil {
		e.failLocked(err)
		return
	}
	if !e.pending {
		e.pending = true
		e.timer.Reset(FlushInterval)
	}
}

func (e *Endpoint) failLocked(err error) {
	e.err = err
	e.endLocked()
	if e.file != nil {
		e.file.Close()
		e.file = nil
	}
}

// endLocked forgets the writer and the timer: the capture is over.
func (e *Endpoint) endLocked() {
	e.w = nil
	e.timer.Stop()
	e.pending = false
	live.Lock()
	delete(live.m, e)
	live.Unlock()
}

// Flush writes buffered frames out.
func (e *Endpoint) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.w == nil {
		if e.err != nil {
			return e.err
		}
		return ErrStopped
	}
	if err := e.w.Flush(); err != nil {
		e.failLocked(err)
		return err
	}
	return nil
}

// Err returns the write error that stopped the capture, if any.
func (e *Endpoint) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// stop flushes and ends the capture; later frames are not recorded.
func (e *Endpoint) stop() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.w == nil {
		return e.err
	}
	err := e.w.Flush()
	e.endLocked()
	if e.file != nil {
		if cerr := e.file.Close(); err == nil {
			err = cerr
		}
		e.file = nil
	}
	if err != nil {
		e.err = err
	}
	return err
}

// DeliverNetworkPacket implements stack.NetworkDispatcher (received frames).
func (e *Endpoint) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	e.record(pkt)
	e.Endpoint.DeliverNetworkPacket(proto, pkt)
}

// WritePackets implements stack.LinkEndpoint (transmitted frames).
func (e *Endpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	for _, pkt := range pkts.AsSlice() {
		e.record(pkt)
	}
	return e.Endpoint.WritePackets(pkts)
}

// Close implements stack.LinkEndpoint: it closes the lower endpoint and
// then finishes the capture.
func (e *Endpoint) Close() {
	e.Endpoint.Close()
	_ = e.stop()
}
