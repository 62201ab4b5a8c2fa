package socket

import (
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// SetOptionInt sets an integer socket option given by its Linux level and
// name. Options that only concern waiting (SO_RCVTIMEO, SO_SNDTIMEO) are
// the caller's business and give ENOPROTOOPT here.
func (so *Socket) SetOptionInt(level, name, v int) error {
	opts := so.ep.SocketOptions()
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
		default:
			return unix.ENOPROTOOPT
		}
		return nil
	case unix.IPPROTO_TCP:
		if so.Type != unix.SOCK_STREAM {
			return unix.ENOPROTOOPT
		}
		switch name {
		case unix.TCP_NODELAY:
			opts.SetDelayOption(!on)
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
			return errOrNil(so.ep.SetSockOpt(opt))
		case unix.TCP_KEEPCNT:
			if v < 1 || v > 127 {
				return unix.EINVAL
			}
			return errOrNil(so.ep.SetSockOptInt(tcpip.KeepaliveCountOption, v))
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
			return errOrNil(so.ep.SetSockOptInt(tcpip.IPv4TTLOption, v))
		case unix.IP_TOS:
			return errOrNil(so.ep.SetSockOptInt(tcpip.IPv4TOSOption, v&0xff))
		}
		return unix.ENOPROTOOPT
	}
	return unix.ENOPROTOOPT
}

// OptionInt reads an integer socket option given by its Linux level and name.
func (so *Socket) OptionInt(level, name int) (int, error) {
	opts := so.ep.SocketOptions()
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
			return int(opts.GetSendBufferSize()), nil
		case unix.SO_RCVBUF:
			return int(opts.GetReceiveBufferSize()), nil
		case unix.SO_ACCEPTCONN:
			so.mu.Lock()
			defer so.mu.Unlock()
			return boolInt(so.listening), nil
		}
		return 0, unix.ENOPROTOOPT
	case unix.IPPROTO_TCP:
		if so.Type != unix.SOCK_STREAM {
			return 0, unix.ENOPROTOOPT
		}
		switch name {
		case unix.TCP_NODELAY:
			return boolInt(!opts.GetDelayOption()), nil
		case unix.TCP_KEEPIDLE:
			var o tcpip.KeepaliveIdleOption
			if err := so.ep.GetSockOpt(&o); err != nil {
				return 0, errnoOf(err)
			}
			return int(time.Duration(o) / time.Second), nil
		case unix.TCP_KEEPINTVL:
			var o tcpip.KeepaliveIntervalOption
			if err := so.ep.GetSockOpt(&o); err != nil {
				return 0, errnoOf(err)
			}
			return int(time.Duration(o) / time.Second), nil
		case unix.TCP_KEEPCNT:
			v, err := so.ep.GetSockOptInt(tcpip.KeepaliveCountOption)
			return v, errOrNil(err)
		}
		return 0, unix.ENOPROTOOPT
	case unix.IPPROTO_IP:
		switch name {
		case unix.IP_TTL:
			v, err := so.ep.GetSockOptInt(tcpip.IPv4TTLOption)
			if err == nil && v == 0 {
				v = 64
			}
			return v, errOrNil(err)
		case unix.IP_TOS:
			v, err := so.ep.GetSockOptInt(tcpip.IPv4TOSOption)
			return v, errOrNil(err)
		}
	}
	return 0, unix.ENOPROTOOPT
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
