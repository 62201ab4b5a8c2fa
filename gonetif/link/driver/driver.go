// Package driver is the link for drivers outside the stack: frames leave
// through a Transmit function and arrive through Receive. It is how a
// driver written in C (esp_netif's transmit callback and
// esp_netif_receive) plugs in, and how tests join two stacks in memory.
package driver

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Options configure an Endpoint.
type Options struct {
	// MAC is the interface's hardware address.
	MAC tcpip.LinkAddress
	// MTU is the IP MTU; 0 means 1500.
	MTU uint32
	// Transmit sends one complete Ethernet frame. The slice is only valid
	// during the call. It is called from the stack's goroutines, one frame
	// at a time per endpoint.
	Transmit func(frame []byte) error
}

// Stats count frames through the endpoint.
type Stats struct {
	RxFrames, TxFrames, RxDropped, TxErrors uint64
}

// Endpoint is an Ethernet link endpoint backed by callbacks.
type Endpoint struct {
	*ethernet.Endpoint
	raw *rawEndpoint
}

// New returns an Endpoint; it panics if Transmit is nil, a programming error.
func New(opts Options) *Endpoint {
	if opts.Transmit == nil {
		panic("driver.New: nil Transmit")
	}
	if opts.MTU == 0 {
		opts.MTU = 1500
	}
	raw := &rawEndpoint{transmit: opts.Transmit, mac: opts.MAC, mtu: opts.MTU + header.EthernetMinimumSize}
	return &Endpoint{Endpoint: ethernet.New(raw), raw: raw}
}

// Receive feeds one Ethernet frame into the stack. The frame is copied. It
// returns false (and counts a drop) for frames too short to be Ethernet or
// when the endpoint is not attached to a stack.
func (e *Endpoint) Receive(frame []byte) bool { return e.raw.receive(frame) }

// Stats returns the frame counters.
func (e *Endpoint) Stats() Stats {
	r := e.raw
	return Stats{
		RxFrames: r.rxFrames.Load(), TxFrames: r.txFrames.Load(),
		RxDropped: r.rxDropped.Load(), TxErrors: r.txErrors.Load(),
	}
}

// rawEndpoint moves whole frames; the ethernet wrapper adds and parses
// Ethernet headers and ARP capability.
type rawEndpoint struct {
	transmit func([]byte) error

	mu         sync.RWMutex
	dispatcher stack.NetworkDispatcher
	mac        tcpip.LinkAddress
	mtu        uint32
	onClose    func()

	txMu  sync.Mutex
	txBuf []byte

	rxFrames, txFrames, rxDropped, txErrors atomic.Uint64
}

func (r *rawEndpoint) receive(frame []byte) bool {
	r.mu.RLock()
	d := r.dispatcher
	r.mu.RUnlock()
	if d == nil || len(frame) < header.EthernetMinimumSize {
		r.rxDropped.Add(1)
		return false
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
	d.DeliverNetworkPacket(0, pkt)
	pkt.DecRef()
	r.rxFrames.Add(1)
	return true
}

func (r *rawEndpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	r.txMu.Lock()
	defer r.txMu.Unlock()
	sent := 0
	for _, pkt := range pkts.AsSlice() {
		buf := r.txBuf[:0]
		for _, s := range pkt.AsSlices() {
			buf = append(buf, s...)
		}
		r.txBuf = buf
		if err := r.transmit(buf); err != nil {
			r.txErrors.Add(1)
			if sent == 0 {
				return 0, &tcpip.ErrAborted{}
			}
			break
		}
		r.txFrames.Add(1)
		sent++
	}
	return sent, nil
}

func (r *rawEndpoint) MTU() uint32 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.mtu
}

func (r *rawEndpoint) SetMTU(mtu uint32) {
	r.mu.Lock()
	r.mtu = mtu + header.EthernetMinimumSize
	r.mu.Unlock()
}

func (*rawEndpoint) MaxHeaderLength() uint16 { return 0 }

func (r *rawEndpoint) LinkAddress() tcpip.LinkAddress {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.mac
}

func (r *rawEndpoint) SetLinkAddress(mac tcpip.LinkAddress) {
	r.mu.Lock()
	r.mac = mac
	r.mu.Unlock()
}

func (*rawEndpoint) Capabilities() stack.LinkEndpointCapabilities { return 0 }

func (r *rawEndpoint) Attach(d stack.NetworkDispatcher) {
	r.mu.Lock()
	r.dispatcher = d
	r.mu.Unlock()
}

func (r *rawEndpoint) IsAttached() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.dispatcher != nil
}

func (*rawEndpoint) Wait()                                   {}
func (*rawEndpoint) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareEther }
func (*rawEndpoint) AddHeader(*stack.PacketBuffer)           {}
func (*rawEndpoint) ParseHeader(*stack.PacketBuffer) bool    { return true }

func (r *rawEndpoint) Close() {
	r.mu.Lock()
	fn := r.onClose
	r.onClose = nil
	r.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (r *rawEndpoint) SetOnCloseAction(fn func()) {
	r.mu.Lock()
	r.onClose = fn
	r.mu.Unlock()
}
