package usernet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// HostForward is one inbound port forward: the host listens on Host and
// each connection (or UDP peer) is relayed to DeviceAddr:DevicePort.
type HostForward struct {
	Proto      string         // "tcp" or "udp"
	Host       netip.AddrPort // port 0: any free port (see Network.HostAddr)
	DeviceAddr netip.Addr     // zero: Options.DHCPStart
	DevicePort uint16
}

func (f HostForward) String() string {
	dev := ""
	if f.DeviceAddr.IsValid() {
		dev = f.DeviceAddr.String()
	}
	return fmt.Sprintf("%s:%s:%d-%s:%d", f.Proto, f.Host.Addr(), f.Host.Port(), dev, f.DevicePort)
}

// maxUDPPeers bounds the host peers of one UDP forward.
const maxUDPPeers = 256

// ParseHostForwards parses QEMU's hostfwd syntax, comma separated:
// [tcp|udp]:[hostaddr]:hostport-[deviceaddr]:deviceport, e.g.
// "tcp:127.0.0.1:8080-:80,udp::5353-:5353". An empty host address is
// 127.0.0.1 (QEMU takes every address; we keep the device off the LAN
// unless asked); an empty device address is the first DHCP address.
func ParseHostForwards(spec string) ([]HostForward, error) {
	var out []HostForward
	for rule := range strings.SplitSeq(spec, ",") {
		rule = strings.TrimSpace(rule)
		if rule == "" {
			continue
		}
		f, err := parseHostForward(rule)
		if err != nil {
			return nil, &Error{Kind: ErrBadHostForward, Detail: fmt.Sprintf("%q: %v", rule, err)}
		}
		out = append(out, f)
	}
	return out, nil
}

func parseHostForward(rule string) (HostForward, error) {
	f := HostForward{Proto: "tcp"}
	hostPart, devPart, ok := strings.Cut(rule, "-")
	if !ok {
		return f, errors.New("want [tcp|udp]:[hostaddr]:hostport-[deviceaddr]:deviceport")
	}
	fields := strings.Split(hostPart, ":")
	switch len(fields) {
	case 3:
		f.Proto = fields[0]
		fields = fields[1:]
	case 2:
	default:
		return f, errors.New("want [tcp|udp]:[hostaddr]:hostport before '-'")
	}
	if f.Proto != "tcp" && f.Proto != "udp" {
		return f, fmt.Errorf("protocol %q: want tcp or udp", f.Proto)
	}
	hostAddr := netip.MustParseAddr("127.0.0.1")
	if fields[0] != "" {
		a, err := netip.ParseAddr(fields[0])
		if err != nil || !a.Is4() {
			return f, fmt.Errorf("host address %q: want IPv4", fields[0])
		}
		hostAddr = a
	}
	hostPort, err := parsePort(fields[1], true)
	if err != nil {
		return f, fmt.Errorf("host port: %v", err)
	}
	f.Host = netip.AddrPortFrom(hostAddr, hostPort)
	devAddr, devPort, ok := strings.Cut(devPart, ":")
	if !ok {
		return f, errors.New("want [deviceaddr]:deviceport after '-'")
	}
	if devAddr != "" {
		a, err := netip.ParseAddr(devAddr)
		if err != nil || !a.Is4() {
			return f, fmt.Errorf("device address %q: want IPv4", devAddr)
		}
		f.DeviceAddr = a
	}
	if f.DevicePort, err = parsePort(devPort, false); err != nil {
		return f, fmt.Errorf("device port: %v", err)
	}
	return f, nil
}

func parsePort(s string, zeroOK bool) (uint16, error) {
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil || (v == 0 && !zeroOK) {
		return 0, fmt.Errorf("%q is not a port", s)
	}
	return uint16(v), nil
}

// hostAddrs records where each forward listens (port 0 picks one).
type hostAddrs struct {
	mu sync.Mutex
	m  map[int]netip.AddrPort
}

// HostAddr returns where the i-th port forward listens on the host.
func (n *Network) HostAddr(i int) netip.AddrPort {
	n.fwdAddrs.mu.Lock()
	defer n.fwdAddrs.mu.Unlock()
	return n.fwdAddrs.m[i]
}

func (n *Network) startHostForward(f HostForward) error {
	index := len(n.fwdAddrs.m)
	inUse := func(err error) error {
		kind := ErrForwardFailed
		if errors.Is(err, syscall.EADDRINUSE) {
			kind = ErrHostPortInUse
		}
		return &Error{Kind: kind, Detail: f.String(), Err: err}
	}
	dev := tcpip.FullAddress{NIC: gatewayNIC, Addr: addrOf(f.DeviceAddr), Port: f.DevicePort}
	var local netip.AddrPort
	switch f.Proto {
	case "tcp":
		l, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(f.Host))
		if err != nil {
			return inUse(err)
		}
		local = l.Addr().(*net.TCPAddr).AddrPort()
		n.closers = append(n.closers, func() { l.Close() })
		n.spawn(func() { n.acceptForward(l, f, dev) })
	case "udp":
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(f.Host))
		if err != nil {
			return inUse(err)
		}
		local = c.LocalAddr().(*net.UDPAddr).AddrPort()
		n.closers = append(n.closers, func() { c.Close() })
		n.spawn(func() { n.serveUDPForward(c, f, dev) })
	}
	n.fwdAddrs.mu.Lock()
	if n.fwdAddrs.m == nil {
		n.fwdAddrs.m = map[int]netip.AddrPort{}
	}
	n.fwdAddrs.m[index] = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	n.fwdAddrs.mu.Unlock()
	return nil
}

func (n *Network) acceptForward(l *net.TCPListener, f HostForward, dev tcpip.FullAddress) {
	for {
		host, err := l.AcceptTCP()
		if err != nil {
			if n.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and the like: say so, let the host retry.
			n.report(&Error{Kind: ErrForwardFailed, Detail: f.String(), Err: err})
			select {
			case <-n.ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		if !n.spawn(func() {
			ctx, cancel := context.WithTimeout(n.ctx, n.opts.DialTimeout)
			conn, ep, err := n.dialDevice(ctx, dev)
			cancel()
			if err != nil {
				n.report(&Error{Kind: ErrForwardFailed, Detail: f.String(), Err: err})
				host.SetLinger(0) // the host peer sees the device's refusal as a reset
				host.Close()
				return
			}
			n.splice(conn, ep, host)
		}) {
			host.Close()
			return
		}
	}
}

// dialDevice connects from the gateway into the device (gonet's dial,
// keeping the endpoint so that a host reset can be passed on).
func (n *Network) dialDevice(ctx context.Context, to tcpip.FullAddress) (net.Conn, tcpip.Endpoint, error) {
	var wq waiter.Queue
	ep, e := n.s.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if e != nil {
		return nil, nil, errors.New(e.String())
	}
	entry, ch := waiter.NewChannelEntry(waiter.WritableEvents | waiter.EventHUp | waiter.EventErr)
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)
	e = ep.Connect(to)
	if _, started := e.(*tcpip.ErrConnectStarted); started {
		select {
		case <-ctx.Done():
			ep.Close()
			return nil, nil, ctx.Err()
		case <-ch:
		}
		e = ep.LastError()
	}
	if e != nil {
		ep.Close()
		return nil, nil, errors.New(e.String())
	}
	return gonet.NewTCPConn(&wq, ep), ep, nil
}

// serveUDPForward keeps one connected device-side socket per host peer,
// closed after UDPIdleTimeout with no traffic either way.
func (n *Network) serveUDPForward(c *net.UDPConn, f HostForward, dev tcpip.FullAddress) {
	type session struct {
		conn *gonet.UDPConn
		last atomicTime
	}
	var mu sync.Mutex
	peers := map[netip.AddrPort]*session{}
	buf := make([]byte, 65536)
	for {
		k, peer, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if n.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		mu.Lock()
		s := peers[peer]
		if s == nil && len(peers) < maxUDPPeers {
			conn, err := gonet.DialUDP(n.s, nil, &dev, ipv4.ProtocolNumber)
			if err != nil {
				mu.Unlock()
				n.report(&Error{Kind: ErrForwardFailed, Detail: f.String(), Err: err})
				continue
			}
			s = &session{conn: conn}
			s.last.touch()
			peers[peer] = s
			if !n.spawn(func() {
				stop := context.AfterFunc(n.ctx, func() { conn.Close() })
				defer stop()
				reply := make([]byte, 65536)
				for {
					conn.SetReadDeadline(time.Now().Add(n.opts.UDPIdleTimeout))
					k, err := conn.Read(reply)
					if err != nil {
						if errors.Is(err, os.ErrDeadlineExceeded) && time.Since(s.last.get()) < n.opts.UDPIdleTimeout {
							continue
						}
						break
					}
					s.last.touch()
					c.WriteToUDPAddrPort(reply[:k], peer)
				}
				conn.Close()
				mu.Lock()
				delete(peers, peer)
				mu.Unlock()
			}) {
				conn.Close()
				mu.Unlock()
				return
			}
		}
		mu.Unlock()
		if s != nil {
			s.last.touch()
			s.conn.Write(buf[:k])
		}
	}
}
