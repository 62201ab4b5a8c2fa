// Package tapio is the TAP driver of ESP-IDF's tapif_io, done in Go: it
// opens a TAP device and stacks the optional layers on it (a pcap capture
// of what crosses the TAP, then loss injection), configured by a Config or by GONETIF_* environment
// variables, so one binary can run as several simulated devices.
package tapio

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/gonetif/gonetif/gonetif/link/capture"
	"github.com/gonetif/gonetif/gonetif/link/loss"
	"github.com/gonetif/gonetif/gonetif/link/tap"
)

// DefaultMAC is tapif_io's station address.
var DefaultMAC = net.HardwareAddr{0x02, 0x12, 0x34, 0x56, 0x78, 0xab}

// Environment variables read by FromEnv.
const (
	EnvTAP     = "GONETIF_TAP"        // TAP name(s), comma separated: the n-th driver takes the n-th
	EnvMAC     = "GONETIF_MAC"        // MAC(s), comma separated, aa:bb:cc:dd:ee:ff
	EnvMTU     = "GONETIF_MTU"        // IP MTU
	EnvPlain   = "GONETIF_TAP_PLAIN"  // 1: no vnet header / offloads
	EnvNetNS   = "GONETIF_TAP_NETNS"  // network namespace path holding the TAP
	EnvInLoss  = "GONETIF_IN_LOSS"    // percent of received frames dropped
	EnvOutLoss = "GONETIF_OUT_LOSS"   // percent of sent frames dropped
	EnvPCAP    = "GONETIF_PCAP"       // capture file; with several drivers, "%d" is the driver index
	EnvDevice  = "GONETIF_TUN_DEVICE" // TUN/TAP clone device, default /dev/net/tun
)

// Config configures one TAP driver. Zero fields take defaults.
type Config struct {
	Name            string           // "" → tap0
	MAC             net.HardwareAddr // nil → 02:12:34:56:78:ab (+ index for the n-th driver)
	MTU             uint32           // 0 → 1500
	Plain           bool             // no offloads: the safe fallback
	NetNS           string           // namespace path of the TAP, "" → ours
	InLoss, OutLoss int              // percent 0..100 of wire segments (a lossy TAP runs plain, see Open)
	PCAP            string           // capture file, "" → none
	Device          string           // clone device, "" → /dev/net/tun
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

// FromEnv fills the zero fields of base from the environment for the
// index-th driver of the process (0-based). A malformed variable is an
// error: a typo must not silently run with defaults.
func FromEnv(base Config, index int) (Config, error) {
	cfg := base
	if cfg.Name == "" {
		cfg.Name = nth(os.Getenv(EnvTAP), index)
		if cfg.Name == "" && index > 0 {
			cfg.Name = "tap" + strconv.Itoa(index)
		}
	}
	if cfg.MAC == nil {
		if s := nth(os.Getenv(EnvMAC), index); s != "" {
			mac, err := net.ParseMAC(s)
			if err != nil || len(mac) != 6 {
				return cfg, invalid("env", "%s=%q is not a MAC address", EnvMAC, s)
			}
			cfg.MAC = mac
		} else if index > 0 {
			// Distinct devices need distinct MACs.
			cfg.MAC = append(net.HardwareAddr(nil), DefaultMAC...)
			cfg.MAC[5] += byte(index)
		}
	}
	var err error
	if cfg.MTU == 0 {
		if cfg.MTU, err = envUint(EnvMTU, 68, 65535); err != nil {
			return cfg, err
		}
	}
	if !cfg.Plain {
		v, err := envUint(EnvPlain, 0, 1)
		if err != nil {
			return cfg, err
		}
		cfg.Plain = v == 1
	}
	if cfg.NetNS == "" {
		cfg.NetNS = os.Getenv(EnvNetNS)
	}
	if cfg.InLoss == 0 {
		v, err := envUint(EnvInLoss, 0, 100)
		if err != nil {
			return cfg, err
		}
		cfg.InLoss = int(v)
	}
	if cfg.OutLoss == 0 {
		v, err := envUint(EnvOutLoss, 0, 100)
		if err != nil {
			return cfg, err
		}
		cfg.OutLoss = int(v)
	}
	if cfg.Device == "" {
		cfg.Device = os.Getenv(EnvDevice)
	}
	if cfg.PCAP == "" {
		if p := os.Getenv(EnvPCAP); p != "" {
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

func nth(list string, i int) string {
	if list == "" {
		return ""
	}
	parts := strings.Split(list, ",")
	if i < len(parts) {
		return strings.TrimSpace(parts[i])
	}
	return ""
}

func envUint(name string, lo, hi uint64) (uint32, error) {
	s := strings.TrimSpace(os.Getenv(name))
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v < lo || v > hi {
		return 0, invalid("env", "%s=%q: want a number in %d..%d", name, s, lo, hi)
	}
	return uint32(v), nil
}

// Driver is an open TAP with its layers.
type Driver struct {
	id   int
	cfg  Config
	tap  *tap.Endpoint
	loss *loss.Endpoint // nil without loss
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
	// Loss applies to frames; with offloads on, one frame can be a 64 KiB
	// super-segment either way, and dropping it loses a whole flight,
	// which is not what a lossy wire does. So a lossy TAP runs plain and
	// every frame is one wire segment.
	lossy := cfg.InLoss != 0 || cfg.OutLoss != 0
	ep, err := tap.Open(tap.Options{
		Name:   cfg.Name,
		MAC:    tcpip.LinkAddress(mac),
		MTU:    cfg.MTU,
		Plain:  cfg.Plain || lossy,
		NetNS:  cfg.NetNS,
		Device: cfg.Device,
	})
	if err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	d := &Driver{id: int(lastID.Add(1)), cfg: cfg, tap: ep, link: ep}
	// The capture sits right on the TAP, under the loss layer: it shows
	// what the wire saw (frames dropped on the way out are not in it,
	// frames dropped on the way in are).
	if cfg.PCAP != "" {
		l, _, err := capture.New(d.link, cfg.PCAP, 0) // closing the endpoint closes the file
		if err != nil {
			ep.Close()
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

// Tap returns the TAP endpoint under the layers.
func (d *Driver) Tap() *tap.Endpoint { return d.tap }

// Dropped returns how many received and sent frames the loss layer dropped.
func (d *Driver) Dropped() (in, out uint64) {
	if d.loss == nil {
		return 0, 0
	}
	return d.loss.Dropped()
}

// ErrNotSupported is returned by WriteFrame when the TAP cannot take raw frames.
var ErrNotSupported = errors.New("raw frame writes not supported")

// WriteFrame writes one raw Ethernet frame to the TAP, bypassing the stack
// (tapio_output).
func (d *Driver) WriteFrame(frame []byte) error {
	if w, ok := any(d.tap).(interface{ WriteFrame([]byte) error }); ok {
		return w.WriteFrame(frame)
	}
	return ErrNotSupported
}

// Close closes the layers and the TAP; safe to call more than once.
func (d *Driver) Close() {
	d.closeOnce.Do(d.link.Close)
}
