package tap

import (
	"strings"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// Defaults applied by Open to zero-valued Options fields.
const (
	// DefaultName is the interface name IDF's tapif_io uses.
	DefaultName = "tap0"
	// DefaultMAC is tapif_io's default station address.
	DefaultMAC = tcpip.LinkAddress("\x02\x12\x34\x56\x78\xab")
	// DefaultMTU is the IP MTU of an Ethernet link.
	DefaultMTU = 1500
	// DefaultDevice is the TUN/TAP clone device.
	DefaultDevice = "/dev/net/tun"

	// GSOMaxSize is the largest TCP segment handed to the kernel in one
	// write when offload is on (the kernel's own TSO limit).
	GSOMaxSize = 1 << 16

	// MinMTU and MaxMTU bound Options.MTU: IPv4's minimum datagram size and
	// the largest IP packet that still fits one frame.
	MinMTU = 68
	MaxMTU = 65535
)

// Options configures Open.
type Options struct {
	// Name is the name of the TAP interface to attach to. Empty means
	// DefaultName ("tap0").
	Name string

	// MAC is the link address of the endpoint (the gVisor side of the TAP,
	// not the host interface's own address). Empty means DefaultMAC. It must
	// be a 6-byte unicast address that is not all zeros.
	MAC tcpip.LinkAddress

	// MTU is the IP MTU reported to the stack. 0 means DefaultMTU. It does
	// not change the host interface's MTU; keep both equal.
	MTU uint32

	// Plain disables offloads: no IFF_VNET_HDR, TUNSETOFFLOAD 0, no GSO,
	// checksums computed and verified in software. It is the safe fallback
	// switch. When false (the default) the TAP is opened with IFF_VNET_HDR,
	// TUNSETOFFLOAD(TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6), host GSO up to
	// GSOMaxSize and checksum-partial frames from the kernel accepted.
	Plain bool

	// NetNS is the path of a network namespace (e.g. /var/run/netns/x) in
	// which the interface lives. Empty means the caller's namespace. Opening
	// in another namespace needs CAP_SYS_ADMIN.
	NetNS string

	// Create allows Open to create the interface when it does not exist
	// (needs CAP_NET_ADMIN; the interface goes away on Close). When false
	// (the default) a missing interface is an ENODEV error, so a typo never
	// silently yields a throwaway TAP.
	Create bool

	// Device is the path of the TUN/TAP clone device. Empty means
	// DefaultDevice ("/dev/net/tun").
	Device string

	// PollThread reads the TAP with a thread blocked in poll(2) instead of
	// Go's netpoller (the default, see netpoll.go): the fallback switch.
	PollThread bool
	// USO merges IPv4 UDP datagrams of one flow and size that are written
	// in one batch into UDP segmentation offload frames (uso.go); ignored
	// when Plain. Needs a kernel whose TAP takes gso_type UDP_L4 (6.2+);
	// batches only come from a queue (netif.Manager.UDPQueue).
	USO bool
	// CallerReads lets a thread about to block on a socket of this
	// interface read and deliver the TAP's frames itself (rtc.go,
	// GONETIF_TCP_RTC); needs the netpoll reader (ignored with
	// PollThread).
	CallerReads bool
	// Warnf receives warnings about the link (no carrier: the host side
	// of the TAP is down, and when it is back). Nil: none.
	Warnf func(format string, args ...any)
}

// normalize applies defaults and validates; errors unwrap to EINVAL.
func (o *Options) normalize() error {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if len(o.Name) >= unix.IFNAMSIZ || o.Name == "." || o.Name == ".." ||
		strings.ContainsAny(o.Name, "/: \t\n\x00") {
		return &Error{Name: o.Name, Op: "check options", Err: unix.EINVAL, detail: "invalid interface name"}
	}
	if o.MAC == "" {
		o.MAC = DefaultMAC
	}
	if len(o.MAC) != header.EthernetAddressSize || o.MAC[0]&1 != 0 ||
		o.MAC == header.UnspecifiedEthernetAddress {
		return &Error{Name: o.Name, Op: "check options", Err: unix.EINVAL,
			detail: "MAC must be a 6-byte unicast address, not all zeros"}
	}
	if o.MTU == 0 {
		o.MTU = DefaultMTU
	}
	if o.MTU < MinMTU || o.MTU > MaxMTU {
		return &Error{Name: o.Name, Op: "check options", Err: unix.EINVAL,
			detail: "MTU must be between 68 and 65535"}
	}
	if o.Device == "" {
		o.Device = DefaultDevice
	}
	return nil
}
