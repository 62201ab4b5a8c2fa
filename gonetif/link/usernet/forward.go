package usernet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

var hostLoopback = netip.MustParseAddr("127.0.0.1")

// hostTarget maps the address the device dialled to the host address to
// dial: the gateway is the host's loopback; the network's own other
// addresses, broadcast and multicast are not forwarded.
func (n *Network) hostTarget(dst tcpip.Address, port uint16) (string, bool) {
	a := netipOf(dst)
	switch {
	case a == n.opts.Gateway:
		a = hostLoopback
	case n.opts.Net.Contains(a), a.IsMulticast(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}),
		a.IsUnspecified(), !a.Is4():
		return "", false
	}
	return net.JoinHostPort(a.String(), strconv.Itoa(int(port))), true
}

// forwardTCP runs for each SYN no local socket takes: it dials the host
// first, so the device sees the real outcome (SYN-ACK, RST, ICMP).
func (n *Network) forwardTCP(r *tcp.ForwarderRequest) {
	id := r.ID()
	target, ok := n.hostTarget(id.LocalAddress, id.LocalPort)
	if !ok || !n.spawn(func() { n.relayTCP(r, id, target) }) {
		r.Complete(true)
	}
}

func (n *Network) relayTCP(r *tcp.ForwarderRequest, id stack.TransportEndpointID, target string) {
	ctx, cancel := context.WithTimeout(n.ctx, n.opts.DialTimeout)
	host, err := n.opts.Dial(ctx, "tcp4", target)
	cancel()
	if err != nil {
		n.report(&Error{Kind: ErrDialFailed, Detail: "tcp " + target, Err: err})
		switch code, unreachable := unreachableCode(err); {
		case unreachable:
			r.Complete(false)
			n.sendUnreachable(id, header.TCPProtocolNumber, code, 0)
		case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
			errors.Is(err, syscall.ETIMEDOUT):
			r.Complete(false) // silence: the device's own connect times out
		default: // refused, or anything else a host would answer with RST
			r.Complete(true)
		}
		return
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	r.Complete(terr != nil)
	if terr != nil {
		host.Close()
		return
	}
	n.splice(gonet.NewTCPConn(&wq, ep), ep, host)
}

// unreachableCode maps a host dial error to the ICMP code a router would
// send, if it is an unreachable kind.
func unreachableCode(err error) (header.ICMPv4Code, bool) {
	switch {
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		return header.ICMPv4HostUnreachable, true
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.ENETDOWN):
		return header.ICMPv4NetUnreachable, true
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return header.ICMPv4HostProhibited, true
	}
	return 0, false
}

// splice copies both ways, passing half-closes on, until both ends are
// done or the network closes. A reset on either side (any error) resets
// the other, as a NAT would pass the RST on.
func (n *Network) splice(dev net.Conn, devEP tcpip.Endpoint, host net.Conn) {
	var once sync.Once
	reset := func() {
		once.Do(func() {
			devEP.Abort()
			if tc, ok := host.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			host.Close()
			dev.Close()
		})
	}
	stop := context.AfterFunc(n.ctx, reset)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.copyHalf(host, dev, reset)
	}()
	n.copyHalf(dev, host, reset)
	<-done
	dev.Close()
	host.Close()
}

type closeWriter interface{ CloseWrite() error }

func (n *Network) copyHalf(dst, src net.Conn, reset func()) {
	if _, err := io.Copy(transitWriter{dst, n}, transitReader{src, n}); err != nil {
		reset()
		return
	}
	if cw, ok := dst.(closeWriter); ok {
		cw.CloseWrite()
	} else {
		dst.Close()
	}
}

// forwardUDP runs, inline, for each datagram no local socket takes: the
// first datagram of a flow makes a connected endpoint and a host socket.
func (n *Network) forwardUDP(r *udp.ForwarderRequest) bool {
	id := r.ID()
	target, ok := n.hostTarget(id.LocalAddress, id.LocalPort)
	if !ok {
		return false // the stack answers port unreachable
	}
	if n.udpFlows.Add(1) > maxUDPFlows {
		n.udpFlows.Add(-1)
		n.report(&Error{Kind: ErrDialFailed, Detail: "udp " + target,
			Err: fmt.Errorf("%d UDP flows open: datagram dropped", maxUDPFlows)})
		return true
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		n.udpFlows.Add(-1)
		return true // a flow for this id is already being set up
	}
	dev := gonet.NewUDPConn(&wq, ep)
	if !n.spawn(func() {
		defer n.udpFlows.Add(-1)
		n.relayUDP(dev, id, target)
	}) {
		n.udpFlows.Add(-1)
		dev.Close()
	}
	return true
}

// maxUDPFlows bounds the host sockets of outbound UDP flows (each lasts
// until UDPIdleTimeout without traffic).
const maxUDPFlows = 4096

func (n *Network) relayUDP(dev *gonet.UDPConn, id stack.TransportEndpointID, target string) {
	ctx, cancel := context.WithTimeout(n.ctx, n.opts.DialTimeout)
	host, err := n.opts.Dial(ctx, "udp4", target)
	cancel()
	if err != nil {
		n.report(&Error{Kind: ErrDialFailed, Detail: "udp " + target, Err: err})
		code, unreachable := unreachableCode(err)
		if unreachable {
			n.sendUnreachable(id, header.UDPProtocolNumber, code, 0)
		}
		dev.Close()
		return
	}
	n.relayDatagrams(dev, host, func(err error) {
		// The host's ICMP reached its socket; tell the device the same.
		if errors.Is(err, syscall.ECONNREFUSED) {
			n.sendUnreachable(id, header.UDPProtocolNumber, header.ICMPv4PortUnreachable, 0)
		} else if code, ok := unreachableCode(err); ok {
			n.sendUnreachable(id, header.UDPProtocolNumber, code, 0)
		}
	})
}

// relayDatagrams moves datagrams between two connected sockets until
// neither has traffic for UDPIdleTimeout or the network closes. hostErr
// sees each receive error on the host side that is not the end.
func (n *Network) relayDatagrams(dev, host net.Conn, hostErr func(error)) {
	stop := context.AfterFunc(n.ctx, func() {
		dev.Close()
		host.Close()
	})
	defer stop()
	idle := n.opts.UDPIdleTimeout
	var last atomicTime
	last.touch()
	pump := func(dst, src net.Conn, onErr func(error)) {
		buf := make([]byte, 65536)
		for {
			src.SetReadDeadline(time.Now().Add(idle))
			k, err := src.Read(buf)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					if time.Since(last.get()) < idle {
						continue
					}
				} else if onErr != nil && isTransient(err) {
					onErr(err)
					continue
				}
				dev.Close()
				host.Close()
				return
			}
			last.touch()
			n.inTransit.Add(int64(k))
			dst.Write(buf[:k])
			n.inTransit.Add(-int64(k))
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		pump(host, dev, nil)
	}()
	pump(dev, host, hostErr)
	<-done
}

// isTransient: errors a UDP socket reports and survives (queued ICMP).
func isTransient(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH)
}

// sendUnreachable sends the device an ICMP destination unreachable from
// the gateway, quoting the IP header and first 8 bytes of the flow's
// packet as a router would (the quoted sequence number is 0; gVisor
// matches errors by ports).
func (n *Network) sendUnreachable(id stack.TransportEndpointID, proto tcpip.TransportProtocolNumber, code header.ICMPv4Code, payloadLen int) {
	quote := make([]byte, header.IPv4MinimumSize+8)
	ip := header.IPv4(quote)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(header.IPv4MinimumSize + 8 + payloadLen),
		TTL:         64,
		Protocol:    uint8(proto),
		SrcAddr:     id.RemoteAddress,
		DstAddr:     id.LocalAddress,
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	ports := quote[header.IPv4MinimumSize:]
	ports[0], ports[1] = byte(id.RemotePort>>8), byte(id.RemotePort)
	ports[2], ports[3] = byte(id.LocalPort>>8), byte(id.LocalPort)

	r, err := n.s.FindRoute(gatewayNIC, addrOf(n.opts.Gateway), id.RemoteAddress, ipv4.ProtocolNumber, false)
	if err != nil {
		return
	}
	defer r.Release()
	icmpHdr := header.ICMPv4(make([]byte, header.ICMPv4MinimumSize))
	icmpHdr.SetType(header.ICMPv4DstUnreachable)
	icmpHdr.SetCode(code)
	icmpHdr.SetChecksum(header.ICMPv4Checksum(icmpHdr, checksum.Checksum(quote, 0)))
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()) + header.ICMPv4MinimumSize,
		Payload:            buffer.MakeWithData(quote),
	})
	defer pkt.DecRef()
	copy(pkt.TransportHeader().Push(header.ICMPv4MinimumSize), icmpHdr)
	pkt.TransportProtocolNumber = header.ICMPv4ProtocolNumber
	r.WritePacket(stack.NetworkHeaderParams{Protocol: header.ICMPv4ProtocolNumber, TTL: 64}, pkt)
}

// transitReader and transitWriter count the bytes a relay holds between
// reading them and writing them on (Flush waits for none). They also keep
// io.Copy off net.TCPConn's ReadFrom/WriteTo, which would bypass them.
type (
	transitReader struct {
		r io.Reader
		n *Network
	}
	transitWriter struct {
		w io.Writer
		n *Network
	}
)

func (t transitReader) Read(b []byte) (int, error) {
	k, err := t.r.Read(b)
	t.n.inTransit.Add(int64(k))
	return k, err
}

func (t transitWriter) Write(b []byte) (int, error) {
	k, err := t.w.Write(b)
	t.n.inTransit.Add(-int64(len(b)))
	return k, err
}
