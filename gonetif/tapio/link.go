package tapio

import (
	"fmt"
	"net"
	"strings"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/config"
	"gonetif.dev/gonetif/link/tap"
	"gonetif.dev/gonetif/link/usernet"
	"gonetif.dev/gonetif/link/vlan"
)

// Link kinds (Config.Link, GONETIF_LINK):
//
//	tap (or empty)  a TAP device, GONETIF_TAP
//	user            a user-mode network: no TAP, no privileges (package usernet)
//	vlan:PATH       a virtual LAN: the gonetif-switch listening at PATH
//	                (a path has a '/': ./lan.sock for the current folder)
//	vlan:NAME       a virtual LAN inside this process, NAME of letters,
//	                digits, '-' and '_': devices naming the same LAN meet
//	user:NAME       the in-process LAN NAME with a user-mode gateway on it,
//	                shared by its devices (DHCP .15, .16, ...)
const (
	vlanPrefix = config.LinkVLAN
	lanPrefix  = config.LinkLAN
)

// isVLANName: a LAN's name is one or more of A-Z a-z 0-9 _ -. (A loop,
// not a regexp: nothing else in the archive needs Go's regexp engine.)
func isVLANName(s string) bool {
	for _, c := range []byte(s) {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return s != ""
}

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
	case strings.HasPrefix(cfg.Link, lanPrefix):
		return openUserLAN(cfg, mac)
	default:
		err = invalid("open", "link %q: want tap, user, user:NAME, vlan:PATH or vlan:NAME", cfg.Link)
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
		USO:        cfg.USO,

		CallerReads: cfg.CallerReads,
		Warnf:       cfg.Logf,
	})
	if err != nil {
		return nil, &Error{Op: "open", Err: err, hint: settingHint(err, cfg)}
	}
	return ep, nil
}

func isVLAN(link string) bool { return strings.HasPrefix(link, vlanPrefix) }

// onLAN: the link is a port of a switch, shared with other devices.
func onLAN(link string) bool { return isVLAN(link) || strings.HasPrefix(link, lanPrefix) }

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
	if !isVLANName(where) {
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

// openUserLAN joins the in-process LAN of a user:NAME link, starting its
// gateway with the first such device.
func openUserLAN(cfg Config, mac tcpip.LinkAddress) (stack.LinkEndpoint, *usernet.Network, error) {
	name := strings.TrimPrefix(cfg.Link, lanPrefix)
	if !isVLANName(name) {
		return nil, nil, invalid("open", "link %q: after user: a LAN name of letters, digits, '-', '_' (for a gonetif-switch socket: vlan:PATH and gonetif-switch -gateway)", cfg.Link)
	}
	mtu := cfg.MTU
	if mtu == 0 {
		mtu = vlan.DefaultMTU
	}
	sw := localSwitch(name, cfg.Logf)
	gw, err := joinGateway(name, sw, cfg, mtu)
	if err != nil {
		return nil, nil, err
	}
	p, err := sw.NewPort(vlan.PortOptions{MAC: mac, MTU: mtu})
	if err != nil {
		gw.leave(name)
		return nil, nil, &Error{Op: "virtual LAN " + name, Err: err}
	}
	return &gatewayPort{Port: p, gw: gw, lan: name}, gw.n, nil
}

// lanGateway is the gateway of an in-process LAN; it runs while a
// user:NAME device is on the LAN, so its host ports are free again once
// the last one is destroyed.
type lanGateway struct {
	n       *usernet.Network
	hostFwd string // as the device that started it asked
	devices int
}

var localGateways = map[string]*lanGateway{} // by LAN name, under localMu

func joinGateway(name string, sw *vlan.Switch, cfg Config, mtu uint32) (*lanGateway, error) {
	localMu.Lock()
	defer localMu.Unlock()
	if gw := localGateways[name]; gw != nil {
		// Every device's settings must agree with the running gateway's:
		// a second network or forward list cannot be honoured.
		o := gw.n.Options()
		var want usernet.Options
		want.SetNet(cfg.UserNet)
		otherNet := want.Net.IsValid() && (want.Net.Masked() != o.Net || want.Gateway.IsValid() && want.Gateway != o.Gateway)
		if otherNet || cfg.HostFwd != "" && cfg.HostFwd != gw.hostFwd {
			return nil, invalid("open", "LAN %q already has its gateway %s on %s with forwards %q; this device asks for network %v and forwards %q",
				name, o.Gateway, o.Net, gw.hostFwd, cfg.UserNet, cfg.HostFwd)
		}
		gw.devices++
		return gw, nil
	}
	fwds, err := usernet.ParseHostForwards(cfg.HostFwd)
	if err != nil {
		return nil, &Error{Op: "user network", Err: err}
	}
	// The in-process switch takes any MTU; the gateway sends no more than
	// the device that starts it takes.
	port, err := sw.NewPort(vlan.PortOptions{MAC: usernet.GatewayMAC, Name: "gateway", MTU: mtu})
	if err != nil {
		return nil, &Error{Op: "virtual LAN " + name, Err: err}
	}
	opts := usernet.Options{GatewayLink: port, HostForwards: fwds}
	opts.SetNet(cfg.UserNet)
	if cfg.Logf != nil {
		opts.OnError = func(err error) { cfg.Logf("%v", err) }
	}
	n, err := usernet.New(opts)
	if err != nil {
		port.Close()
		return nil, &Error{Op: "user network", Err: err}
	}
	gw := &lanGateway{n: n, hostFwd: cfg.HostFwd, devices: 1}
	localGateways[name] = gw
	return gw, nil
}

// leave stops the gateway with its last device. The close is under
// localMu, so a device joining next finds the host ports free.
func (gw *lanGateway) leave(name string) {
	localMu.Lock()
	defer localMu.Unlock()
	if gw.devices--; gw.devices == 0 {
		delete(localGateways, name)
		gw.n.Close()
	}
}

// gatewayPort is a user:NAME device's port; closing it lets go of the
// LAN's gateway.
type gatewayPort struct {
	*vlan.Port
	gw   *lanGateway
	lan  string
	once sync.Once
}

func (p *gatewayPort) Close() {
	p.Port.Close()
	p.once.Do(func() { p.gw.leave(p.lan) })
}

func describeLink(cfg Config, ep stack.LinkEndpoint) string {
	if name, ok := strings.CutPrefix(cfg.Link, lanPrefix); ok {
		return fmt.Sprintf("in-process virtual LAN %q (MAC %s)", name, ep.LinkAddress())
	}
	where := strings.TrimPrefix(cfg.Link, vlanPrefix)
	if strings.Contains(where, "/") {
		return fmt.Sprintf("virtual LAN at %s (MAC %s)", where, ep.LinkAddress())
	}
	return fmt.Sprintf("in-process virtual LAN %q (MAC %s)", where, ep.LinkAddress())
}
