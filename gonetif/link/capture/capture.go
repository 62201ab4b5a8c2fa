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
	flushEvery     = 200 * time.Millisecond
	pcapRecordHead = 16
)

// ErrStopped is returned by Flush after the capture was closed.
var ErrStopped = errors.New("capture: stopped")

// Endpoint wraps a link endpoint and copies each frame to a pcap stream.
// Writes are buffered and flushed at most every 200 ms, on Flush and on
// close. A write error stops the capture (see Err); traffic is unaffected.
type Endpoint struct {
	nested.Endpoint
	snapLen uint32

	mu        sync.Mutex
	w         *bufio.Writer // nil once stopped
	file      io.Closer     // closed on stop when we opened it
	err       error
	lastFlush time.Time
	head      [pcapRecordHead]byte
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
	e := &Endpoint{snapLen: snapLen, w: bufio.NewWriterSize(w, 256<<10), lastFlush: time.Now()}
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
	e.Endpoint.Init(lower, e)
	return e, nil
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
	if err == nil && now.Sub(e.lastFlush) >= flushEvery {
		err = e.w.Flush()
		e.lastFlush = now
	}
	if err != nil {
		e.failLocked(err)
	}
}

func (e *Endpoint) failLocked(err error) {
	e.err = err
	e.w = nil
	if e.file != nil {
		e.file.Close()
		e.file = nil
	}
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
	e.lastFlush = time.Now()
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
	e.w = nil
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
