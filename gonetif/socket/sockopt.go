package socket

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// OptValue is an option's value in Linux layout (ints, struct linger,
// struct in_addr ...); N bytes of B are used.
type OptValue struct {
	B [16]byte
	N int
	// CharOK: Linux returns this IP-level int as one byte when asked
	// with a buffer shorter than an int.
	CharOK bool
	// MinRoom: a buffer shorter than this is EINVAL, not a cut value
	// (an interface name: Linux wants room for any, IFNAMSIZ).
	MinRoom int
}

func intValue(v int) OptValue {
	var o OptValue
	binary.NativeEndian.PutUint32(o.B[:], uint32(int32(v)))
	o.N = 4
	return o
}

// ipCharOption: IP-level options Linux reads as an int or a single byte.
func ipCharOption(name int) bool {
	switch name {
	case unix.IP_TTL, unix.IP_TOS, unix.IP_MULTICAST_TTL, unix.IP_MULTICAST_LOOP:
		return true
	}
	return false
}

// SetOption sets a socket option from its Linux representation: a struct
// timeval for SO_RCVTIMEO/SO_SNDTIMEO, an interface name for
// SO_BINDTODEVICE (SetOptionInt takes its index).
func (so *Socket) SetOption(level, name int, val []byte) error {
	defer so.udpFastChanged()
	if level == unix.SOL_SOCKET {
		if handled, err := so.setSocketLevelWaitOption(name, val); handled {
			return err
		}
	}
	switch {
	case level == unix.SOL_SOCKET && name == unix.SO_LINGER:
		if len(val) < 8 {
			return unix.EINVAL
		}
		on := int32(binary.NativeEndian.Uint32(val)) != 0
		secs := int32(binary.NativeEndian.Uint32(val[4:]))
		if secs < 0 {
			secs = 0
		}
		so.endpoint().SocketOptions().SetLinger(tcpip.LingerOption{Enabled: on, Timeout: time.Duration(secs) * time.Second})
		return nil
	case level == unix.IPPROTO_IP && name == unix.IP_MULTICAST_IF:
		return so.setMulticastIf(val)
	case level == unix.IPPROTO_IP && (name == unix.IP_ADD_MEMBERSHIP || name == unix.IP_DROP_MEMBERSHIP):
		if so.Type == unix.SOCK_STREAM {
			return unix.EPROTO
		}
		if len(val) < 8 {
			return unix.EINVAL
		}
		m := tcpip.MembershipOption{MulticastAddr: tcpip.AddrFrom4([4]byte(val[0:4]))}
		if len(val) >= 12 {
			m.NIC = tcpip.NICID(int32(binary.NativeEndian.Uint32(val[8:])))
		}
		if a := [4]byte(val[4:8]); a != [4]byte{} {
			m.InterfaceAddr = tcpip.AddrFrom4(a)
			if m.NIC == 0 {
				m.NIC = LocalNIC(so.stack, ipv4.ProtocolNumber, m.InterfaceAddr)
			}
		}
		return so.membership(name == unix.IP_ADD_MEMBERSHIP, m)
	case level == unix.IPPROTO_IPV6 && (name == unix.IPV6_JOIN_GROUP || name == unix.IPV6_LEAVE_GROUP):
		if so.Family != unix.AF_INET6 {
			return unix.ENOPROTOOPT
		}
		if so.Type == unix.SOCK_STREAM {
			return unix.EPROTO
		}
		if len(val) < 20 {
			return unix.EINVAL
		}
		m := tcpip.MembershipOption{
			MulticastAddr: tcpip.AddrFrom16([16]byte(val[0:16])),
			NIC:           tcpip.NICID(binary.NativeEndian.Uint32(val[16:])),
		}
		return so.membership(name == unix.IPV6_JOIN_GROUP, m)
	}
	var v int
	switch {
	case level == unix.IPPROTO_IP && ipCharOption(name) && len(val) >= 1 && len(val) < 4:
		v = int(val[0])
	case len(val) < 4:
		return unix.EINVAL
	default:
		v = int(int32(binary.NativeEndian.Uint32(val)))
	}
	return so.SetOptionInt(level, name, v)
}

func (so *Socket) membership(add bool, m tcpip.MembershipOption) error {
	var err tcpip.Error
	if add {
		o := tcpip.AddMembershipOption(m)
		err = so.endpoint().SetSockOpt(&o)
	} else {
		o := tcpip.RemoveMembershipOption(m)
		err = so.endpoint().SetSockOpt(&o)
	}
	if _, ok := err.(*tcpip.ErrUnknownNICID); ok {
		return unix.ENODEV
	}
	return errOrNil(err)
}

func (so *Socket) setMulticastIf(val []byte) error {
	if so.Type == unix.SOCK_STREAM {
		return unix.EINVAL // Linux: no multicast on a stream
	}
	var o tcpip.MulticastInterfaceOption
	var a [4]byte
	switch {
	case len(val) >= 12: // struct ip_mreqn
		a = [4]byte(val[4:8])
		o.NIC = tcpip.NICID(int32(binary.NativeEndian.Uint32(val[8:])))
	case len(val) >= 8: // struct ip_mreq: the interface address
		a = [4]byte(val[4:8])
	case len(val) >= 4: // struct in_addr
		a = [4]byte(val[0:4])
	default:
		return unix.EINVAL
	}
	if a != [4]byte{} {
		o.InterfaceAddr = tcpip.AddrFrom4(a)
		if o.NIC == 0 {
			o.NIC = LocalNIC(so.stack, ipv4.ProtocolNumber, o.InterfaceAddr)
		}
	}
	if so.Family == unix.AF_INET6 && so.endpoint().SocketOptions().GetV6Only() {
		// Linux keeps an IPv4 multicast interface on a v6-only socket
		// (it never sends IPv4, so nothing uses it); gVisor refuses one.
		if o.InterfaceAddr.Len() != 0 && o.NIC == 0 {
			return unix.EADDRNOTAVAIL
		}
		so.extraOf().v6onlyMulticastIf.Store(&o)
		return nil
	}
	if err := so.endpoint().SetSockOpt(&o); err != nil {
		if _, ok := err.(*tcpip.ErrBadLocalAddress); ok {
			return unix.EADDRNOTAVAIL
		}
		return errnoOf(err)
	}
	return nil
}

// SetOptionInt sets an integer socket option given by its Linux level and name.
func (so *Socket) SetOptionInt(level, name, v int) error {
	defer so.udpFastChanged()
	opts := so.endpoint().SocketOptions()
	on := v != 0
	switch level {
	case unix.SOL_SOCKET:
		switch name {
		case unix.SO_REUSEADDR:
			opts.SetReuseAddress(on)
		case unix.SO_REUSEPORT:
			opts.SetReusePort(on)
		case unix.SO_KEEPALIVE:
			opts.SetKeepAlive(on)
		case unix.SO_BROADCAST:
			opts.SetBroadcast(on)
		case unix.SO_SNDBUF:
			// Linux doubles the request to account for bookkeeping.
			opts.SetSendBufferSize(int64(clampBuf(v))*2, true)
		case unix.SO_RCVBUF:
			opts.SetReceiveBufferSize(int64(clampBuf(v))*2, true)
		case unix.SO_BINDTODEVICE:
			if err := opts.SetBindToDevice(int32(v)); err != nil {
				return unix.ENODEV
			}
		default:
			return unix.ENOPROTOOPT
		}
		return nil
	case unix.IPPROTO_UDP:
		if so.Protocol != unix.IPPROTO_UDP || name != unix.UDP_CORK {
			return unix.ENOPROTOOPT
		}
		so.setCork(on)
		return nil
	case unix.IPPROTO_TCP:
		if so.Type != unix.SOCK_STREAM {
			return unix.ENOPROTOOPT
		}
		switch name {
		case unix.TCP_NODELAY:
			opts.SetDelayOption(!on)
			if c := so.coal.Load(); c != nil && on {
				c.flush() // Linux pushes what Nagle held
			}
		case unix.TCP_KEEPIDLE, unix.TCP_KEEPINTVL:
			if v < 1 || v > 32767 {
				return unix.EINVAL
			}
			var opt tcpip.SettableSocketOption
			if name == unix.TCP_KEEPIDLE {
				o := tcpip.KeepaliveIdleOption(time.Duration(v) * time.Second)
				opt = &o
			} else {
				o := tcpip.KeepaliveIntervalOption(time.Duration(v) * time.Second)
				opt = &o
			}
			return errOrNil(so.endpoint().SetSockOpt(opt))
		case unix.TCP_KEEPCNT:
			if v < 1 || v > 127 {
				return unix.EINVAL
			}
			return errOrNil(so.endpoint().SetSockOptInt(tcpip.KeepaliveCountOption, v))
		case unix.TCP_SYNCNT:
			if v > maxTCPSynCount {
				return unix.EINVAL // gVisor takes any; Linux stops at 127
			}
			if err := so.endpoint().SetSockOptInt(tcpip.TCPSynCountOption, v); err != nil {
				return errnoOf(err)
			}
			so.mu.Lock()
			so.extraOf().synCount = v
			so.mu.Unlock()
			return nil
		case unix.TCP_USER_TIMEOUT:
			if v < 0 {
				return unix.EINVAL
			}
			o := tcpip.TCPUserTimeoutOption(time.Duration(v) * time.Millisecond)
			return errOrNil(so.endpoint().SetSockOpt(&o))
		default:
			return unix.ENOPROTOOPT
		}
		return nil
	case unix.IPPROTO_IP:
		switch name {
		case unix.IP_TTL:
			if v == -1 {
				v = 0 // back to the default
			} else if v < 1 || v > 255 {
				return unix.EINVAL
			}
			return errOrNil(so.endpoint().SetSockOptInt(tcpip.IPv4TTLOption, v))
		case unix.IP_TOS:
			return errOrNil(so.endpoint().SetSockOptInt(tcpip.IPv4TOSOption, v&0xff))
		case unix.IP_MULTICAST_TTL:
			if so.Type == unix.SOCK_STREAM {
				return unix.EINVAL
			}
			if v == -1 {
				v = 1
			} else if v < 0 || v > 255 {
				return unix.EINVAL
			}
			return errOrNil(so.endpoint().SetSockOptInt(tcpip.MulticastTTLOption, v))
		case unix.IP_MULTICAST_LOOP:
			opts.SetMulticastLoop(on)
			return nil
		}
		return unix.ENOPROTOOPT
	case unix.IPPROTO_IPV6:
		if so.Family != unix.AF_INET6 {
			return unix.ENOPROTOOPT
		}
		switch name {
		case unix.IPV6_V6ONLY:
			// Linux refuses once bound.
			if a, err := so.endpoint().GetLocalAddress(); err == nil && a.Port != 0 {
				return unix.EINVAL
			}
			opts.SetV6Only(on)
			return nil
		case unix.IPV6_UNICAST_HOPS:
			if v < -1 || v > 255 {
				return unix.EINVAL
			}
			return errOrNil(so.endpoint().SetSockOptInt(tcpip.IPv6HopLimitOption, v))
		case unix.IPV6_MULTICAST_HOPS:
			if so.Type == unix.SOCK_STREAM {
				return unix.ENOPROTOOPT // Linux: no multicast on a stream
			}
			if v == -1 {
				v = 1
			} else if v < 0 || v > 255 {
				return unix.EINVAL
			}
			return errOrNil(so.endpoint().SetSockOptInt(tcpip.MulticastTTLOption, v))
		case unix.IPV6_MULTICAST_LOOP:
			if v != 0 && v != 1 {
				return unix.EINVAL
			}
			opts.SetMulticastLoop(on)
			return nil
		}
		return unix.ENOPROTOOPT
	}
	return unix.ENOPROTOOPT
}

// Option reads a socket option in its Linux representation.
func (so *Socket) Option(level, name int) (OptValue, error) {
	if level == unix.SOL_SOCKET {
		if o, handled, err := so.socketLevelWaitOption(name); handled {
			return o, err
		}
	}
	switch {
	case level == unix.SOL_SOCKET && name == unix.SO_LINGER:
		l := so.endpoint().SocketOptions().GetLinger()
		var o OptValue
		binary.NativeEndian.PutUint32(o.B[:], uint32(boolInt(l.Enabled)))
		binary.NativeEndian.PutUint32(o.B[4:], uint32(l.Timeout/time.Second))
		o.N = 8
		return o, nil
	case level == unix.IPPROTO_IP && name == unix.IP_MULTICAST_IF:
		var m tcpip.MulticastInterfaceOption
		if so.Type == unix.SOCK_STREAM {
			// Linux answers INADDR_ANY; gVisor's TCP has no such option.
			return OptValue{N: 4}, nil
		}
		if kept := so.keptV6onlyMulticastIf(); kept != nil && so.endpoint().SocketOptions().GetV6Only() {
			m = *kept
		} else if err := so.endpoint().GetSockOpt(&m); err != nil {
			return OptValue{}, errnoOf(err)
		}
		var o OptValue
		if m.InterfaceAddr.Len() == 4 {
			a := m.InterfaceAddr.As4()
			copy(o.B[:], a[:])
		}
		o.N = 4
		return o, nil
	}
	v, err := so.OptionInt(level, name)
	if err != nil {
		return OptValue{}, err
	}
	o := intValue(v)
	o.CharOK = level == unix.IPPROTO_IP && ipCharOption(name)
	return o, nil
}

// OptionInt reads an integer socket option given by its Linux level and name.
func (so *Socket) OptionInt(level, name int) (int, error) {
	opts := so.endpoint().SocketOptions()
	switch level {
	case unix.SOL_SOCKET:
		switch name {
		case unix.SO_TYPE:
			return so.Type, nil
		case unix.SO_PROTOCOL:
			return so.Protocol, nil
		case unix.SO_DOMAIN:
			return so.Family, nil
		case unix.SO_ERROR:
			return int(so.PendingError()), nil
		case unix.SO_REUSEADDR:
			return boolInt(opts.GetReuseAddress()), nil
		case unix.SO_REUSEPORT:
			return boolInt(opts.GetReusePort()), nil
		case unix.SO_KEEPALIVE:
			return boolInt(opts.GetKeepAlive()), nil
		case unix.SO_BROADCAST:
			return boolInt(opts.GetBroadcast()), nil
		case unix.SO_SNDBUF:
			if c := so.coal.Load(); c != nil {
				c.flush()
			}
			return int(opts.GetSendBufferSize()), nil
		case unix.SO_RCVBUF:
			return int(opts.GetReceiveBufferSize()), nil
		case unix.SO_BINDTODEVICE:
			return int(opts.GetBindToDevice()), nil
		case unix.SO_ACCEPTCONN:
			return boolInt(so.Listening()), nil
		}
		return 0, unix.ENOPROTOOPT
	case unix.IPPROTO_TCP:
		if so.Type != unix.SOCK_STREAM {
			return 0, so.noSuchLevel()
		}
		switch name {
		case unix.TCP_NODELAY:
			return boolInt(!opts.GetDelayOption()), nil
		case unix.TCP_KEEPIDLE:
			var o tcpip.KeepaliveIdleOption
			if err := so.endpoint().GetSockOpt(&o); err != nil {
				return 0, errnoOf(err)
			}
			return int(time.Duration(o) / time.Second), nil
		case unix.TCP_KEEPINTVL:
			var o tcpip.KeepaliveIntervalOption
			if err := so.endpoint().GetSockOpt(&o); err != nil {
				return 0, errnoOf(err)
			}
			return int(time.Duration(o) / time.Second), nil
		case unix.TCP_KEEPCNT:
			v, err := so.endpoint().GetSockOptInt(tcpip.KeepaliveCountOption)
			return v, errOrNil(err)
		case unix.TCP_SYNCNT:
			v, err := so.endpoint().GetSockOptInt(tcpip.TCPSynCountOption)
			return v, errOrNil(err)
		case unix.TCP_USER_TIMEOUT:
			var o tcpip.TCPUserTimeoutOption
			if err := so.endpoint().GetSockOpt(&o); err != nil {
				return 0, errnoOf(err)
			}
			return int(time.Duration(o) / time.Millisecond), nil
		}
		return 0, unix.ENOPROTOOPT
	case unix.IPPROTO_IP:
		switch name {
		case unix.IP_TTL:
			v, err := so.endpoint().GetSockOptInt(tcpip.IPv4TTLOption)
			if err == nil && v == 0 {
				v = 64
			}
			return v, errOrNil(err)
		case unix.IP_TOS:
			v, err := so.endpoint().GetSockOptInt(tcpip.IPv4TOSOption)
			return v, errOrNil(err)
		case unix.IP_MULTICAST_TTL:
			v, err := so.endpoint().GetSockOptInt(tcpip.MulticastTTLOption)
			return v, errOrNil(err)
		case unix.IP_MULTICAST_LOOP:
			return boolInt(opts.GetMulticastLoop()), nil
		}
	case unix.IPPROTO_IPV6:
		if so.Family != unix.AF_INET6 {
			return 0, so.noSuchLevel()
		}
		switch name {
		case unix.IPV6_V6ONLY:
			return boolInt(opts.GetV6Only()), nil
		case unix.IPV6_UNICAST_HOPS:
			v, err := so.endpoint().GetSockOptInt(tcpip.IPv6HopLimitOption)
			if err == nil && v < 0 {
				v = 64
			}
			return v, errOrNil(err)
		case unix.IPV6_MULTICAST_HOPS:
			v, err := so.endpoint().GetSockOptInt(tcpip.MulticastTTLOption)
			return v, errOrNil(err)
		case unix.IPV6_MULTICAST_LOOP:
			return boolInt(opts.GetMulticastLoop()), nil
		}
	case unix.IPPROTO_UDP:
		if so.Protocol != unix.IPPROTO_UDP {
			return 0, so.noSuchLevel()
		}
		if name == unix.UDP_CORK {
			return boolInt(so.corked()), nil
		}
	default:
		return 0, so.noSuchLevel()
	}
	return 0, unix.ENOPROTOOPT
}

// maxTCPSynCount is Linux's MAX_TCP_SYNCNT, the most TCP_SYNCNT takes.
const maxTCPSynCount = 127

// noSuchLevel is getsockopt's error for a level the socket has not:
// Linux's IPv4 code answers EOPNOTSUPP, its IPv6 code ENOPROTOOPT.
func (so *Socket) noSuchLevel() error {
	if so.Family == unix.AF_INET {
		return unix.EOPNOTSUPP
	}
	return unix.ENOPROTOOPT
}

// ReceiveQueued is FIONREAD: bytes ready for a stream, the size of the
// next datagram otherwise.
func (so *Socket) ReceiveQueued() (int, error) {
	if so.Type == unix.SOCK_STREAM && tcp.EndpointState(so.endpoint().State()) == tcp.StateListen {
		return 0, unix.EINVAL
	}
	v, err := so.endpoint().GetSockOptInt(tcpip.ReceiveQueueSizeOption)
	return v, errOrNil(err)
}

// SendQueued is SIOCOUTQ: for a stream the bytes written and not yet
// acknowledged, sent or not (none during the handshake; a listener is
// EINVAL), counting those send coalescing still holds; for a datagram
// socket the payload UDP_CORK or MSG_MORE holds back (Linux counts the
// memory of its buffers, a little more), as gVisor hands each datagram to
// the interface at once.
func (so *Socket) SendQueued() (int, error) {
	if so.Type != unix.SOCK_STREAM {
		return so.corkedBytes(), nil
	}
	ep := so.endpoint()
	switch tcp.EndpointState(ep.State()) {
	case tcp.StateListen:
		return 0, unix.EINVAL
	case tcp.StateSynSent, tcp.StateSynRecv:
		return 0, nil
	}
	v, err := ep.GetSockOptInt(tcpip.SendQueueSizeOption)
	if err != nil {
		return 0, errnoOf(err)
	}
	if c := so.coal.Load(); c != nil {
		v += c.bufferedBytes()
	}
	return v, nil
}

// pingSocket: an ICMP datagram socket (Linux's ping socket).
func (so *Socket) pingSocket() bool {
	return so.Type == unix.SOCK_DGRAM && (so.Protocol == unix.IPPROTO_ICMP || so.Protocol == unix.IPPROTO_ICMPV6)
}

func clampBuf(v int) int {
	switch {
	case v < 2048:
		return 2048
	case v > 4<<20:
		return 4 << 20
	}
	return v
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// LocalNIC is the NIC that holds addr as one of its own addresses,
// preferring a real interface to the loopback: gVisor's
// CheckLocalAddress(0, …) may answer the loopback NIC for an interface's
// address once the stack has talked to itself (it then keeps a temporary
// copy of the address there), and a multicast interface or group joined
// there would never reach the wire. 0 when no NIC holds addr as its own.
func LocalNIC(s *gvstack.Stack, proto tcpip.NetworkProtocolNumber, addr tcpip.Address) tcpip.NICID {
	info := s.NICInfo()
	var real, loop tcpip.NICID
	for id, addrs := range s.AllAddresses() {
		for _, a := range addrs {
			if a.Protocol != proto || a.AddressWithPrefix.Address != addr {
				continue
			}
			switch {
			case info[id].Flags.Loopback:
				loop = id
			case real == 0 || id < real:
				real = id
			}
		}
	}
	if real != 0 {
		return real
	}
	return loop
}

func (so *Socket) keptV6onlyMulticastIf() *tcpip.MulticastInterfaceOption {
	if x := so.extra.Load(); x != nil {
		return x.v6onlyMulticastIf.Load()
	}
	return nil
}
