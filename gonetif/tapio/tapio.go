// Package tapio is the TAP driver of ESP-IDF's tapif_io, done in Go: it
// opens a TAP device (or, with Link "user", a user-mode network that needs
// no TAP) and stacks the optional layers (loss injection, pcap capture) on
// it, configured by a Config or by GONETIF_* environment variables, so one
// binary can run as several simulated devices.
package tapio

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/gonetif/gonetif/gonetif/config"
	"github.com/gonetif/gonetif/gonetif/link/capture"
	"github.com/gonetif/gonetif/gonetif/link/loss"
	"github.com/gonetif/gonetif/gonetif/link/tap"
	"github.com/gonetif/gonetif/gonetif/link/usernet"
)

// DefaultMAC is tapif_io's station address.
var DefaultMAC = net.HardwareAddr{0x02, 0x12, 0x34, 0x56, 0x78, 0xab}

// Environment variables read by FromEnv (rows of config.Table).
const (
	EnvTAP     = config.TAP        // TAP name(s), comma separated: the n-th driver takes the n-th
	EnvMAC     = config.MAC        // MAC(s), comma separated, aa:bb:cc:dd:ee:ff
	EnvMTU     = config.MTU        // IP MTU
	EnvPlain   = config.TAPPlain   // 1: no vnet header / offloads
	EnvNetNS   = config.TAPNetNS   // network namespace path holding the TAP
	EnvInLoss  = config.InLoss     // percent of received frames dropped
	EnvOutLoss = config.OutLoss    // percent of sent frames dropped
	EnvPCAP    = config.PCAP       // capture file; with several drivers, "%d" is the driver index
	EnvDevice  = config.TUNDevice  // TUN/TAP clone device, default /dev/net/tun
	EnvNetpoll = config.TAPNetpoll // 0: poll(2) reader thread instead of Go's netpoller
	EnvLink    = config.Link       // link kind of every device, or a comma list: tap (default) or user
	EnvHostFwd = config.HostFwd    // user link: port forwards, QEMU hostfwd syntax
	EnvUserNet = config.UserNet    // user link: network (10.0.2.0/24), or gateway/prefix (192.168.5.1/24)
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
	Link            string           // LinkTAP or LinkUser, "" → LinkTAP

	// AppInLoss and AppOutLoss are the loss percentages the app was
	// compiled with (CONFIG_EXAMPLE_CONNECT_TAPIF_IN/OUT_LOSS): they apply
	// when neither the field nor the environment gives one.
	AppInLoss, AppOutLoss int

	// User-mode link only (see package usernet).
	HostFwd string       // port forwards, e.g. "tcp:127.0.0.1:8080-:80"
	UserNet netip.Prefix // zero → 10.0.2.0/24 (gateway .2, DNS .3, DHCP from .15); a host address (192.168.5.1/24) is the gateway
	OnError func(error)  // the running network's errors, for logs
}

// Error reports a driver configuration or open failure.
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string { return "tapio: " + e.Op + ": " + e.Err.Error() }
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
	for _, name := range []string{EnvTAP, EnvMAC, EnvMTU, EnvPlain, EnvNetNS, EnvInLoss, EnvOutLoss, EnvPCAP, EnvDevice, EnvNetpoll, EnvLink, EnvHostFwd, EnvUserNet} {
		if err := v.Err(name); err != nil {
			return base, &Error{Op: "settings", Err: fmt.Errorf("%w: %v", unix.EINVAL, err)}
		}
	}
	cfg := base
	if cfg.Name == "" {
		cfg.Name = v.Nth(EnvTAP, index)
		if cfg.Name == "" && index > 0 {
			cfg.Name = "tap" + strconv.Itoa(index)
		}
	}
	if cfg.MAC == nil {
		if s := v.Nth(EnvMAC, index); s != "" {
			cfg.MAC, _ = net.ParseMAC(s) // checked by config
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
	if cfg.Link == "" {
		// One kind names the kind of every device; a list, each in turn.
		if kinds := v.List(EnvLink); len(kinds) == 1 {
			cfg.Link = kinds[0]
		} else {
			cfg.Link = v.Nth(EnvLink, index)
		}
	}
	switch cfg.Link {
	case "", LinkTAP, LinkUser:
	default:
		return cfg, invalid("config", "link %q: want %s or %s", cfg.Link, LinkTAP, LinkUser)
	}
	// One host port serves one device: the forwards go to the first.
	if cfg.HostFwd == "" && index == 0 {
		cfg.HostFwd = v.Text(EnvHostFwd)
	}
	if !cfg.UserNet.IsValid() && v.IsSet(EnvUserNet) {
		cfg.UserNet, _ = netip.ParsePrefix(v.Text(EnvUserNet)) // checked by config
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

// Driver is an open TAP (or user-mode network) with its layers.
type Driver struct {
	id   int
	cfg  Config
	tap  *tap.Endpoint
	user *usernet.Network
	link stack.LinkEndpoint

	closeOnce sync.Once
}

var lastID atomic.Int64

// Open opens the TAP and stacks the configured layers on it.
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
	d := &Driver{id: int(lastID.Add(1)), cfg: cfg}
	switch cfg.Link {
	case "", LinkTAP:
		ep, err := tap.Open(tap.Options{
			Name:   cfg.Name,
			MAC:    tcpip.LinkAddress(mac),
			MTU:    cfg.MTU,
			Plain:  cfg.Plain,
			NetNS:  cfg.NetNS,
			Device: cfg.Device,

			PollThread: cfg.PollThread,
		})
		if err != nil {
			return nil, &Error{Op: "open", Err: err}
		}
		d.tap, d.link = ep, ep
	case LinkUser:
		fwds, err := usernet.ParseHostForwards(cfg.HostFwd)
		if err != nil {
			return nil, &Error{Op: "user network", Err: err}
		}
		// A host address in the prefix names the gateway, so an app's
		// static set-up (192.168.5.100 via 192.168.5.1) works unchanged.
		var gateway netip.Addr
		if cfg.UserNet.IsValid() && cfg.UserNet.Addr() != cfg.UserNet.Masked().Addr() {
			gateway = cfg.UserNet.Addr()
		}
		n, err := usernet.New(usernet.Options{Net: cfg.UserNet, Gateway: gateway, MAC: mac, MTU: cfg.MTU, HostForwards: fwds,
			OnError: cfg.OnError})
		if err != nil {
			return nil, &Error{Op: "user network", Err: err}
		}
		d.user, d.link = n, n.Link()
	default:
		return nil, invalid("open", "link %q: want %s or %s", cfg.Link, LinkTAP, LinkUser)
	}
	if cfg.InLoss != 0 || cfg.OutLoss != 0 {
		l, err := loss.New(d.link, cfg.InLoss, cfg.OutLoss)
		if err != nil {
			d.link.Close()
			return nil, &Error{Op: "loss layer", Err: err}
		}
		d.link = l
	}
	if cfg.PCAP != "" {
		l, _, err := capture.New(d.link, cfg.PCAP, 0) // closing the endpoint closes the file
		if err != nil {
			d.link.Close()
			return nil, &Error{Op: "capture " + cfg.PCAP, Err: err}
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

// Tap returns the TAP endpoint under the layers; nil on a user-mode link.
func (d *Driver) Tap() *tap.Endpoint { return d.tap }

// User returns the user-mode network under the layers; nil on a TAP.
func (d *Driver) User() *usernet.Network { return d.user }

// Describe says what the driver opened, for a log line.
func (d *Driver) Describe() string {
	if d.user != nil {
		o := d.user.Options()
		return fmt.Sprintf("user-mode network %s (gateway %s = host loopback, DNS %s, DHCP from %s, %d port forwards), MAC %s",
			o.Net, o.Gateway, o.DNS, o.DHCPStart, len(o.HostForwards), net.HardwareAddr(o.MAC))
	}
	mode := "offload"
	if d.cfg.Plain {
		mode = "plain"
	}
	return fmt.Sprintf("TAP %s opened (%s, MAC %s)", d.tap.Name(), mode, d.tap.LinkAddress())
}

// ErrNotSupported is returned by WriteFrame when the TAP cannot take raw frames.
var ErrNotSupported = errors.New("raw frame writes not supported")

// WriteFrame writes one raw Ethernet frame to the TAP, bypassing the stack
// (tapio_output).
func (d *Driver) WriteFrame(frame []byte) error {
	if d.user != nil {
		return d.user.InjectFrame(frame)
	}
	if w, ok := any(d.tap).(interface{ WriteFrame([]byte) error }); ok {
		return w.WriteFrame(frame)
	}
	return ErrNotSupported
}

// Close closes the layers and the TAP; safe to call more than once.
func (d *Driver) Close() {
	d.closeOnce.Do(d.link.Close)
}
