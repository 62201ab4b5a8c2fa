// Command gonetif-switch is a virtual Ethernet switch for gonetif apps in
// separate processes: each app started with GONETIF_LINK=vlan:PATH joins
// the LAN through the UNIX socket at PATH. No root, no TAP.
//
//	gonetif-switch [-mtu 1500] [-queue 1024] [-quiet] [-gateway [-net 10.0.2.0/24] [-hostfwd SPEC]] PATH
//
// With -gateway the switch also runs a user-mode gateway on a port of its
// own (package usernet): DHCP leases from .15, DNS at .3, the host's
// loopback at .2, outbound TCP/UDP as host sockets, and host port
// forwards (-hostfwd, QEMU's syntax) into the devices.
//
// It prints "listening on PATH" once ready, logs peers joining and leaving
// and dropped frames to stderr, and stops cleanly (socket file removed) on
// SIGTERM or SIGINT.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"gonetif.dev/gonetif/link/usernet"
	"gonetif.dev/gonetif/link/vlan"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("gonetif-switch", flag.ContinueOnError)
	mtu := fs.Uint("mtu", vlan.DefaultMTU, "largest IP MTU on the LAN; longer frames are dropped")
	queue := fs.Int("queue", vlan.DefaultQueueLen, "frames queued per peer before frames to it are dropped")
	quiet := fs.Bool("quiet", false, "log only errors, not peers joining and leaving")
	gateway := fs.Bool("gateway", false, "also run a user-mode gateway on the LAN: DHCP, DNS, the host's loopback at .2, outbound TCP/UDP as host sockets")
	netFlag := fs.String("net", "", "with -gateway: the network, gateway .2, DNS .3, DHCP from .15; a host address (192.168.5.1/24) is the gateway (default 10.0.2.0/24)")
	hostfwd := fs.String("hostfwd", "", "with -gateway: host ports forwarded to devices, QEMU's hostfwd syntax, e.g. tcp::8080-10.0.2.15:80,udp::5353-:5353")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: gonetif-switch [flags] SOCKET_PATH\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	gwOpts, err := gatewayOptions(*gateway, *netFlag, *hostfwd)
	if err == nil && *gateway && *mtu < minGatewayMTU {
		err = fmt.Errorf("-mtu %d: the gateway needs at least %d (a DHCP message must fit)", *mtu, minGatewayMTU)
	}
	if err != nil {
		fmt.Fprintf(fs.Output(), "gonetif-switch: %v\n", err)
		fs.Usage()
		return 2
	}
	path := fs.Arg(0)
	logger := log.New(os.Stderr, "gonetif-switch: ", log.LstdFlags|log.Lmicroseconds)
	logf := logger.Printf
	if *quiet {
		logf = func(format string, args ...any) {
			if msg := fmt.Sprintf(format, args...); !isPeerNews(msg) {
				logger.Print(msg)
			}
		}
	}
	if *mtu > vlan.MaxMTU {
		logger.Printf("-mtu %d: at most %d", *mtu, vlan.MaxMTU)
		return 2
	}
	sw, err := vlan.NewSwitch(vlan.Options{MTU: uint32(*mtu), QueueLen: *queue, Logf: logf})
	if err != nil {
		logger.Print(err)
		return 2
	}
	defer sw.Close()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	var gw *usernet.Network
	if gwOpts != nil {
		gw, err = startGateway(sw, *gwOpts, logger)
		if err != nil {
			logger.Print(err)
			if errors.Is(err, usernet.ErrBadOptions) {
				fs.Usage()
				return 2
			}
			return 1
		}
		defer gw.Close()
	}
	srv, err := vlan.Listen(sw, path)
	if err != nil {
		logger.Print(err)
		return 1
	}
	logger.Printf("listening on %s (MTU %d)", path, sw.MTU())
	sig := <-sigs
	logger.Printf("%v: stopping", sig)
	rc := 0
	if err := srv.Close(); err != nil {
		logger.Printf("close: %v", err)
		rc = 1
	}
	if gw != nil {
		gw.Close() // its relays and forwards end with it
	}
	sw.Close()
	st := sw.Stats()
	logger.Printf("stopped; forwarded %d, flooded %d, dropped %d malformed, %d oversize, %d at full queues",
		st.Forwarded, st.Flooded, st.Malformed, st.Oversize, st.QueueFull)
	return rc
}

// minGatewayMTU is the IPv4 datagram every host must take (RFC 791),
// which DHCP relies on.
const minGatewayMTU = 576

// gatewayOptions checks the gateway flags; nil options: no gateway.
func gatewayOptions(gateway bool, netSpec, hostfwd string) (*usernet.Options, error) {
	if !gateway {
		if netSpec != "" || hostfwd != "" {
			return nil, errors.New("-net and -hostfwd need -gateway")
		}
		return nil, nil
	}
	var o usernet.Options
	if netSpec != "" {
		p, err := netip.ParsePrefix(netSpec)
		if err != nil || !p.Addr().Is4() {
			return nil, fmt.Errorf("-net %q: want an IPv4 prefix like 10.0.2.0/24", netSpec)
		}
		o.SetNet(p)
	}
	fwds, err := usernet.ParseHostForwards(hostfwd)
	if err != nil {
		return nil, fmt.Errorf("-hostfwd: %v", err)
	}
	o.HostForwards = fwds
	return &o, nil
}

// startGateway plugs a user-mode gateway into a port of sw.
func startGateway(sw *vlan.Switch, o usernet.Options, logger *log.Logger) (*usernet.Network, error) {
	port, err := sw.NewPort(vlan.PortOptions{MAC: usernet.GatewayMAC, Name: "gateway"})
	if err != nil {
		return nil, err
	}
	o.GatewayLink = port // the port's MTU is the switch's
	o.OnError = func(err error) { logger.Print(err) }
	n, err := usernet.New(o)
	if err != nil {
		port.Close()
		return nil, err
	}
	o = n.Options()
	logger.Printf("gateway %s (the host's 127.0.0.1) on %s, DNS %s, DHCP from %s (%d addresses)",
		o.Gateway, o.Net, o.DNS, o.DHCPStart, o.DHCPCount)
	for i, f := range o.HostForwards {
		logger.Printf("forward %s %s to %s:%d", f.Proto, n.HostAddr(i), f.DeviceAddr, f.DevicePort)
	}
	return n, nil
}

func isPeerNews(msg string) bool {
	return strings.HasSuffix(msg, " joined") || strings.HasSuffix(msg, " left")
}
