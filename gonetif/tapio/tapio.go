// Package tapio is the TAP driver of ESP-IDF's tapif_io, done in Go: it
// opens a TAP device (or, instead, a user-mode network or a virtual LAN
// port: see link.go) and stacks the optional layers on it (a pcap capture
// of what crosses the link, then loss injection and delay), configured by a
// Config or by GONETIF_* environment variables, so one binary can run as
// several simulated devices.
package tapio

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/config"
	"gonetif.dev/gonetif/link/capture"
	"gonetif.dev/gonetif/link/delay"
	"gonetif.dev/gonetif/link/loss"
	"gonetif.dev/gonetif/link/tap"
	"gonetif.dev/gonetif/link/usernet"
)

// DefaultMAC is tapif_io's station address.
var DefaultMAC = net.HardwareAddr{0x02, 0x12, 0x34, 0x56, 0x78, 0xab}

// Environment variables read by FromEnv (rows of config.Table).
const (
	EnvTAP      = config.TAP        // TAP name(s), comma separated: the n-th driver takes the n-th
	EnvMAC      = config.MAC        // MAC(s), comma separated, aa:bb:cc:dd:ee:ff
	EnvMTU      = config.MTU        // IP MTU
	EnvPlain    = config.TAPPlain   // 1: no vnet header / offloads
	EnvNetNS    = config.TAPNetNS   // network namespace path holding the TAP
	EnvInLoss   = config.InLoss     // percent of received frames dropped
	EnvOutLoss  = config.OutLoss    // percent of sent frames dropped
	EnvPCAP     = config.PCAP       // capture file; with several drivers, "%d" is the driver index
	EnvDevice   = config.TUNDevice  // TUN/TAP clone device, default /dev/net/tun
	EnvNetpoll  = config.TAPNetpoll // 0: poll(2) reader thread instead of Go's netpoller
	EnvUDPQueue = config.UDPQueue   // 1: merge queued UDP datagrams of a flow (USO)
	EnvRTC      = config.TCPRTC     // 1: a blocked caller reads the TAP itself
	EnvLink     = config.Link       // link kind(s), comma separated: tap, user, user:NAME, vlan:PATH, vlan:NAME
	EnvHostFwd  = config.HostFwd    // user link: port forwards, QEMU hostfwd syntax
	EnvUserNet  = config.UserNet    // user link: network (10.0.2.0/24), or gateway/prefix (192.168.5.1/24)
	EnvInDelay  = config.InDelay    // delay of received frames: 20ms, or 20ms/5ms with jitter
	EnvOutDelay = config.OutDelay   // delay of sent frames, same syntax
)

// Link kinds.
const (
	LinkTAP  = config.LinkTAP
	LinkUser = config.LinkUser // user-mode network: no TAP, no privileges
)

// Config configures one TAP driver. Zero fields take defaults.
type Config struct {
	Name            string           // "" → tap0
	MAC             net.HardwareAddr // nil → 02:12:34:56:78:ab (+ index for the n-th driver)
	MTU             uint32           // 0 → 1500
	Plain           bool             // no offloads: the safe fallback
	NetNS           string           // namespace path of the TAP, "" → ours
	InLoss, OutLoss int              // percent 0..100
	PCAP            string           // capture file, "" → none
	Device          string           // clone device, "" → /dev/net/tun
	PollThread      bool             // read with a poll(2) thread instead of Go's netpoller
	USO             bool             // TAP: merge UDP datagrams of a flow written in one batch (tap.Options.USO)
	CallerReads     bool             // TAP: a blocked caller reads the TAP itself (tap.Options.CallerReads)
	Link            string           // "" or "tap", "user", "user:NAME", "vlan:PATH", "vlan:NAME" (see link.go)

	// AppInLoss and AppOutLoss are the loss percentages the app was
	// compiled with (CONFIG_EXAMPLE_CONNECT_TAPIF_IN/OUT_LOSS): they apply
	// when neither the field nor the environment gives one.
	AppInLoss, AppOutLoss int

	// User-mode links only (user, and the gateway of user:NAME; see package usernet).
	HostFwd string       // port forwards, e.g. "tcp:127.0.0.1:8080-:80"
	UserNet netip.Prefix // zero → 10.0.2.0/24 (gateway .2, DNS .3, DHCP from .15); a host address (192.168.5.1/24) is the gateway

	InDelay, OutDelay delay.Spec                       // received / sent frames
	Logf              func(format string, args ...any) // link diagnostics and warnings (no carrier); nil: none
}

// Error reports a driver configuration or open failure.
type Error struct {
	Op  string
	Err error

	hint string // which setting to look at, in the names users set
}

func (e *Error) Error() string {
	msg := "tapio: " + e.Op + ": " + e.Err.Error()
	if e.hint != "" {
		msg += " (" + e.hint + ")"
	}
	return msg
}

// settingHint names the setting behind an open failure: the environment
// variable and tapio_config_t field, what C users and Go users of this
// package set.
func settingHint(err error, cfg Config) string {
	var te *tap.Error
	if !errors.As(err, &te) {
		return ""
	}
	switch {
	case errors.Is(err, unix.ENODEV):
		return fmt.Sprintf("the TAP's name comes from %s or tapio_config_t.tap_name; this device's is %q", EnvTAP, te.Name)
	case errors.Is(err, unix.ENOENT) && te.Op == "open":
		dev := cfg.Device
		if dev == "" {
			dev = "/dev/net/tun"
		}
		return fmt.Sprintf("the clone device is %s, set by %s", dev, EnvDevice)
	case errors.Is(err, unix.EBUSY):
		return fmt.Sprintf("every device needs a TAP of its own: %s takes a comma list", EnvTAP)
	case te.Op == "open netns "+cfg.NetNS || te.Op == "setns "+cfg.NetNS:
		return fmt.Sprintf("the namespace comes from %s", EnvNetNS)
	}
	return ""
}
func (e *Error) Unwrap() error { return e.Err }

func invalid(op, format string, args ...any) *Error {
	return &Error{Op: op, Err: fmt.Errorf("%w: %s", unix.EINVAL, fmt.Sprintf(format, args...))}
}

// FromEnv is FromValues with the process environment.
func FromEnv(base Config, index int) (Config, error) {
	v, _ := config.Environ()
	return FromValues(base, v, index)
}

// FromValues fills the zero fields of base from settings for the index-th
// driver of the process (0-based). A malformed setting is an error: a
// typo must not silently run with defaults.
func FromValues(base Config, v *config.Values, index int) (Config, error) {
	for _, name := range []string{EnvTAP, EnvMAC, EnvMTU, EnvPlain, EnvNetNS, EnvInLoss, EnvOutLoss, EnvPCAP, EnvDevice, EnvNetpoll, EnvUDPQueue, EnvRTC,
		EnvLink, EnvHostFwd, EnvUserNet, EnvInDelay, EnvOutDelay} {
		if err := v.Err(name); err != nil {
			return base, &Error{Op: "settings", Err: fmt.Errorf("%w: %v", unix.EINVAL, err)}
		}
	}
	cfg := base
	if cfg.Link == "" {
		// The n-th device takes the n-th kind; devices past the list's end
		// take its last, so one kind serves every device.
		if kinds := v.List(EnvLink); len(kinds) > 0 {
			cfg.Link = kinds[min(index, len(kinds)-1)]
		}
	}
	if cfg.Name == "" {
		cfg.Name = v.Nth(EnvTAP, index)
		if cfg.Name == "" && index > 0 {
			cfg.Name = "tap" + strconv.Itoa(index)
		}
	}
	if cfg.MAC == nil {
		if s := v.Nth(EnvMAC, index); s != "" {
			cfg.MAC, _ = net.ParseMAC(s) // checked by config
		} else if onLAN(cfg.Link) {
			cfg.MAC = vlanMAC(os.Getpid(), index)
		} else if index > 0 {
			// Distinct devices need distinct MACs.
			cfg.MAC = append(net.HardwareAddr(nil), DefaultMAC...)
			cfg.MAC[5] += byte(index)
		}
	}
	if cfg.MTU == 0 && v.IsSet(EnvMTU) {
		cfg.MTU = uint32(v.Uint(EnvMTU))
	}
	cfg.Plain = cfg.Plain || v.Bool(EnvPlain)
	cfg.PollThread = cfg.PollThread || !v.Bool(EnvNetpoll)
	cfg.USO = cfg.USO || v.Bool(EnvUDPQueue)
	cfg.CallerReads = cfg.CallerReads || v.Bool(EnvRTC)
	if cfg.NetNS == "" {
		cfg.NetNS = v.Text(EnvNetNS)
	}
	if cfg.InLoss == 0 {
		cfg.InLoss = cfg.AppInLoss
		if v.IsSet(EnvInLoss) {
			cfg.InLoss = int(v.Uint(EnvInLoss))
		}
	}
	if cfg.OutLoss == 0 {
		cfg.OutLoss = cfg.AppOutLoss
		if v.IsSet(EnvOutLoss) {
			cfg.OutLoss = int(v.Uint(EnvOutLoss))
		}
	}
	if cfg.Device == "" && v.IsSet(EnvDevice) {
		cfg.Device = v.Text(EnvDevice)
	}
	// One host port serves one device: the forwards go to the first.
	if cfg.HostFwd == "" && index == 0 {
		cfg.HostFwd = v.Text(EnvHostFwd)
	}
	if !cfg.UserNet.IsValid() && v.IsSet(EnvUserNet) {
		cfg.UserNet, _ = netip.ParsePrefix(v.Text(EnvUserNet)) // checked by config
	}
	if cfg.InDelay.IsZero() {
		cfg.InDelay, _ = delay.ParseSpec(v.Text(EnvInDelay)) // checked by config
	}
	if cfg.OutDelay.IsZero() {
		cfg.OutDelay, _ = delay.ParseSpec(v.Text(EnvOutDelay))
	}
	if cfg.PCAP == "" {
		if p := v.Text(EnvPCAP); p != "" {
			if strings.Contains(p, "%d") {
				p = fmt.Sprintf(p, index)
			} else if index > 0 {
				p = fmt.Sprintf("%s.%d", p, index)
			}
			cfg.PCAP = p
		}
	}
	return cfg, nil
}

// Driver is an open TAP (or user-mode network, or virtual LAN port) with
// its layers.
type Driver struct {
	id   int
	cfg  Config
	tap  *tap.Endpoint      // nil on other link kinds
	user *usernet.Network   // the user-mode network (user) or the LAN's gateway (user:NAME); else nil
	base stack.LinkEndpoint // under the layers
	loss *loss.Endpoint     // nil without loss
	link stack.LinkEndpoint

	closeOnce sync.Once
}

var lastID atomic.Int64

// Open opens the link of cfg's kind and stacks the configured layers on it.
func Open(cfg Config) (*Driver, error) {
	mac := cfg.MAC
	if mac == nil {
		mac = DefaultMAC
	}
	if len(mac) != 6 {
		return nil, invalid("open", "MAC must have 6 bytes")
	}
	if cfg.InLoss < 0 || cfg.InLoss > 100 || cfg.OutLoss < 0 || cfg.OutLoss > 100 {
		return nil, invalid("open", "loss percentages must be 0..100")
	}
	// Loss applies to frames; with offloads on, one frame can be a 64 KiB
	// super-segment either way, and dropping it loses a whole flight,
	// which is not what a lossy wire does. So a lossy TAP runs plain and
	// every frame is one wire segment.
	lossy := cfg.InLoss != 0 || cfg.OutLoss != 0
	linkCfg := cfg
	linkCfg.Plain = cfg.Plain || lossy
	ep, user, err := openLink(linkCfg, tcpip.LinkAddress(mac))
	if err != nil {
		return nil, err
	}
	d := &Driver{id: int(lastID.Add(1)), cfg: cfg, user: user, base: ep, link: ep}
	d.tap, _ = ep.(*tap.Endpoint)
	// The capture sits right on the link, under the loss and delay layers:
	// it shows what the wire saw (frames dropped on the way out are not in
	// it, frames dropped on the way in are).
	if cfg.PCAP != "" {
		l, _, err := capture.New(d.link, cfg.PCAP, 0) // closing the endpoint closes the file
		if err != nil {
			d.link.Close()
			return nil, &Error{Op: "capture " + cfg.PCAP, Err: err}
		}
		d.link = l
	}
	if lossy {
		l, err := loss.New(d.link, cfg.InLoss, cfg.OutLoss)
		if err != nil {
			d.link.Close()
			return nil, &Error{Op: "loss layer", Err: err}
		}
		d.loss = l
		d.link = l
	}
	if !cfg.InDelay.IsZero() || !cfg.OutDelay.IsZero() {
		l, err := delay.New(d.link, delay.Options{In: cfg.InDelay, Out: cfg.OutDelay})
		if err != nil {
			d.link.Close()
			return nil, &Error{Op: "delay layer", Err: err}
		}
		d.link = l
	}
	return d, nil
}

// ID is a process-unique number for the driver.
func (d *Driver) ID() int { return d.id }

// Config returns the configuration the driver was opened with.
func (d *Driver) Config() Config { return d.cfg }

// Link is the endpoint to attach to an interface. The interface owns it
// from then on: stopping the interface closes the driver (each layer
// closes what it holds, the capture file included).
func (d *Driver) Link() stack.LinkEndpoint { return d.link }

// Tap returns the TAP endpoint under the layers; nil on other link kinds.
func (d *Driver) Tap() *tap.Endpoint { return d.tap }

// User returns the user-mode network under the layers; nil on other kinds.
func (d *Driver) User() *usernet.Network { return d.user }

// Describe says what the driver opened, for a log line.
func (d *Driver) Describe() string {
	switch {
	case d.user != nil && d.user.Link() == nil: // user:NAME
		o := d.user.Options()
		return fmt.Sprintf("%s with the user-mode gateway %s = host loopback (network %s, DNS %s, DHCP from %s, %d port forwards)",
			describeLink(d.cfg, d.base), o.Gateway, o.Net, o.DNS, o.DHCPStart, len(o.HostForwards))
	case d.user != nil:
		o := d.user.Options()
		return fmt.Sprintf("user-mode network %s (gateway %s = host loopback, DNS %s, DHCP from %s, %d port forwards), MAC %s",
			o.Net, o.Gateway, o.DNS, o.DHCPStart, len(o.HostForwards), net.HardwareAddr(o.MAC))
	case d.tap != nil:
		mode := "offload"
		switch {
		case d.cfg.Plain:
			mode = "plain"
		case d.loss != nil:
			mode = fmt.Sprintf("plain: loss %d%% in, %d%% out", d.cfg.InLoss, d.cfg.OutLoss)
		}
		return fmt.Sprintf("TAP %s opened (%s, MAC %s)", d.tap.Name(), mode, d.tap.LinkAddress())
	}
	return describeLink(d.cfg, d.base)
}

// Dropped returns how many received and sent frames the loss layer dropped.
func (d *Driver) Dropped() (in, out uint64) {
	if d.loss == nil {
		return 0, 0
	}
	return d.loss.Dropped()
}

// Frames returns how many received and sent frames the loss layer saw,
// dropped ones included (0, 0 without loss).
func (d *Driver) Frames() (in, out uint64) {
	if d.loss == nil {
		return 0, 0
	}
	return d.loss.Frames()
}

// ErrNotSupported is returned by WriteFrame when the link cannot take raw frames.
var ErrNotSupported = errors.New("raw frame writes not supported")

// WriteFrame writes one raw Ethernet frame to the link (TAP, LAN or the
// user-mode gateway), bypassing the stack (tapio_output).
func (d *Driver) WriteFrame(frame []byte) error {
	if w, ok := d.base.(interface{ WriteFrame([]byte) error }); ok {
		return w.WriteFrame(frame) // a TAP or a LAN port (user:NAME too)
	}
	if d.user != nil {
		return d.user.InjectFrame(frame)
	}
	return ErrNotSupported
}

// Close closes the layers and the link; safe to call more than once.
func (d *Driver) Close() {
	d.closeOnce.Do(d.link.Close)
}
