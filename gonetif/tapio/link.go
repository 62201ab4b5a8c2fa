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
	"github.com/gonetif/gonetif/gonetif/link/usernet"
	"github.com/gonetif/gonetif/gonetif/link/vlan"
)

// Link kinds (Config.Link, GONETIF_LINK):
//
//	tap (or empty)  a TAP device, GONETIF_TAP
//	user            a user-mode network: no TAP, no privileges (package usernet)
//	vlan:PATH       a virtual LAN: the gonetif-switch listening at PATH
//	                (a path has a '/': ./lan.sock for the current folder)
//	vlan:NAME       a virtual LAN inside this process, NAME of letters,
//	                digits, '-' and '_': devices naming the same LAN meet
const vlanPrefix = "vlan:"

var vlanName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// openLink builds the endpoint for cfg's link kind, under the layers; on
// the user-mode link also the network behind it.
func openLink(cfg Config, mac tcpip.LinkAddress) (stack.LinkEndpoint, *usernet.Network, error) {
	var ep stack.LinkEndpoint
	var err error
	switch {
	case cfg.Link == "" || cfg.Link == LinkTAP:
		ep, err = openTAP(cfg, mac)
	case cfg.Link == LinkUser:
		n, err := openUser(cfg, mac)
		if err != nil {
			return nil, nil, err
		}
		return n.Link(), n, nil
	case isVLAN(cfg.Link):
		ep, err = openVLAN(cfg, mac)
	default:
		err = invalid("open", "link %q: want tap, user, vlan:PATH or vlan:NAME", cfg.Link)
	}
	return ep, nil, err
}

func openUser(cfg Config, mac tcpip.LinkAddress) (*usernet.Network, error) {
	fwds, err := usernet.ParseHostForwards(cfg.HostFwd)
	if err != nil {
		return nil, &Error{Op: "user network", Err: err}
	}
	opts := usernet.Options{MAC: net.HardwareAddr(mac), MTU: cfg.MTU, HostForwards: fwds}
	opts.SetNet(cfg.UserNet)
	if cfg.Logf != nil {
		opts.OnError = func(err error) { cfg.Logf("%v", err) }
	}
	n, err := usernet.New(opts)
	if err != nil {
		return nil, &Error{Op: "user network", Err: err}
	}
	return n, nil
}

func openTAP(cfg Config, mac tcpip.LinkAddress) (stack.LinkEndpoint, error) {
	ep, err := tap.Open(tap.Options{
		Name:   cfg.Name,
		MAC:    mac,
		MTU:    cfg.MTU,
		Plain:  cfg.Plain,
		NetNS:  cfg.NetNS,
		Device: cfg.Device,

		PollThread: cfg.PollThread,
		Warnf:      cfg.Logf,
	})
	if err != nil {
		return nil, &Error{Op: "open", Err: err, hint: settingHint(err, cfg)}
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
