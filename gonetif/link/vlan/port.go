package vlan

import (
	"fmt"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/link/driver"
)

var _ stack.LinkEndpoint = (*Port)(nil)

// PortOptions configure a device port.
type PortOptions struct {
	// MAC is the device's hardware address; each device on the LAN needs
	// its own.
	MAC tcpip.LinkAddress
	// MTU is the device's IP MTU, at most the switch's; 0 means the
	// switch's.
	MTU uint32
	// Name appears in log lines; "" means the MAC.
	Name string
}

// Port is a device's link endpoint on the switch (an Ethernet NIC with its
// cable plugged into the switch). Closing it, as the stack does when the
// NIC is removed, unplugs it.
type Port struct {
	*driver.Endpoint
	p *port
}

// NewPort plugs a new device into the switch.
func (s *Switch) NewPort(opts PortOptions) (*Port, error) {
	if len(opts.MAC) != 6 {
		return nil, fmt.Errorf("vlan: port MAC must have 6 bytes, not %d: %w", len(opts.MAC), unix.EINVAL)
	}
	if opts.MTU == 0 {
		opts.MTU = s.mtu
	}
	if opts.MTU > s.mtu {
		return nil, fmt.Errorf("vlan: port MTU %d above the switch's %d: %w", opts.MTU, s.mtu, unix.EINVAL)
	}
	if opts.Name == "" {
		opts.Name = opts.MAC.String()
	}
	pt := &Port{}
	pt.Endpoint = driver.New(driver.Options{MAC: opts.MAC, MTU: opts.MTU, Transmit: pt.transmit})
	p, err := s.addPort(opts.Name, func(f []byte) { pt.Endpoint.Receive(f) })
	if err != nil {
		return nil, err
	}
	pt.p = p
	return pt, nil
}

// transmit is called with a slice valid only during the call: the switch
// gets a copy. Frames the stack builds are well formed; a refusal (an MTU
// raised past the switch's) is the stack's error.
func (pt *Port) transmit(frame []byte) error {
	return pt.p.sw.input(pt.p, append([]byte(nil), frame...))
}

// WriteFrame sends one raw Ethernet frame onto the LAN, bypassing the
// stack (tapio_output). A frame the switch refuses is a *FrameError.
func (pt *Port) WriteFrame(frame []byte) error { return pt.transmit(frame) }

// Close unplugs the port and closes the endpoint; safe more than once.
func (pt *Port) Close() {
	pt.p.leave()
	pt.Endpoint.Close()
}
