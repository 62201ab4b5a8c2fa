package tapio

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/gonetif/gonetif/gonetif/link/tap"
	"github.com/gonetif/gonetif/gonetif/link/vlan"
)

// Link kinds (Config.Link, GONETIF_LINK):
//
//	tap (or empty)  a TAP device, GONETIF_TAP
//	vlan:PATH       a virtual LAN: the gonetif-switch listening at PATH
//	                (a path has a '/': ./lan.sock for the current folder)
//	vlan:NAME       a virtual LAN inside this process, NAME of letters,
//	                digits, '-' and '_': devices naming the same LAN meet
const vlanPrefix = "vlan:"

var vlanName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// openLink builds the endpoint for cfg's link kind, under the layers.
func openLink(cfg Config, mac tcpip.LinkAddress) (stack.LinkEndpoint, error) {
	switch {
	case cfg.Link == "" || cfg.Link == "tap":
		return openTAP(cfg, mac)
	case isVLAN(cfg.Link):
		return openVLAN(cfg, mac)
	}
	return nil, invalid("open", "link %q: want tap, vlan:PATH or vlan:NAME", cfg.Link)
}

func openTAP(cfg Config, mac tcpip.LinkAddress) (stack.LinkEndpoint, error) {
	ep, err := tap.Open(tap.Options{
		Name:   cfg.Name,
		MAC:    mac,
		MTU:    cfg.MTU,
		Plain:  cfg.Plain,
		NetNS:  cfg.NetNS,
		Device: cfg.Device,
	})
	if err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	return ep, nil
}

func isVLAN(link string) bool { return strings.HasPrefix(link, vlanPrefix) }

func openVLAN(cfg Config, mac tcpip.LinkAddress) (stack.LinkEndpoint, error) {
	where := strings.TrimPrefix(cfg.Link, vlanPrefix)
	mtu := cfg.MTU
	if mtu == 0 {
		mtu = vlan.DefaultMTU
	}
	if strings.Contains(where, "/") {
		c, err := vlan.Dial(where, vlan.ClientOptions{MAC: mac, MTU: mtu, Logf: cfg.Logf})
		if err != nil {
			return nil, &Error{Op: "virtual LAN", Err: err}
		}
		return c, nil
	}
	if !vlanName.MatchString(where) {
		return nil, invalid("open", "link %q: after vlan: a socket path (with a '/', e.g. ./lan.sock) or a name of letters, digits, '-', '_'", cfg.Link)
	}
	p, err := localSwitch(where, cfg.Logf).NewPort(vlan.PortOptions{MAC: mac, MTU: mtu})
	if err != nil {
		return nil, &Error{Op: "virtual LAN " + where, Err: err}
	}
	return p, nil
}

// In-process LANs live as long as the process: a device may leave and
// another join later.
var (
	localMu       sync.Mutex
	localSwitches = map[string]*vlan.Switch{}
)

func localSwitch(name string, logf func(string, ...any)) *vlan.Switch {
	localMu.Lock()
	defer localMu.Unlock()
	sw := localSwitches[name]
	if sw == nil {
		// The largest MTU: each device's own MTU is the limit that matters.
		sw, _ = vlan.NewSwitch(vlan.Options{MTU: vlan.MaxMTU, Logf: logf})
		localSwitches[name] = sw
	}
	return sw
}

// vlanMAC gives each device of each process on a LAN its own locally
// administered MAC (tapif's fixed default would collide between
// processes): 02:6c, then the PID's low 24 bits and the device index.
func vlanMAC(pid, index int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x6c, byte(pid >> 16), byte(pid >> 8), byte(pid), byte(index)}
}

func describeLink(cfg Config, ep stack.LinkEndpoint) string {
	where := strings.TrimPrefix(cfg.Link, vlanPrefix)
	if strings.Contains(where, "/") {
		return fmt.Sprintf("virtual LAN at %s (MAC %s)", where, ep.LinkAddress())
	}
	return fmt.Sprintf("in-process virtual LAN %q (MAC %s)", where, ep.LinkAddress())
}

// nthOrLast is the i-th entry of a comma list; devices past its end take
// the last entry, so one value serves every device.
func nthOrLast(list string, i int) string {
	if list == "" {
		return ""
	}
	parts := strings.Split(list, ",")
	return strings.TrimSpace(parts[min(i, len(parts)-1)])
}
