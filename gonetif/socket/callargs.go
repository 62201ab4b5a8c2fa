package socket

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/unix"
)

// Linux's rules for the other C-shaped arguments: option buffers and
// lengths, fcntl and ioctl requests, accept4's flags, read of nothing.

// MaxOptionBytes is the longest option value SetOption reads (a struct
// timeval, ip_mreqn, an interface name).
const MaxOptionBytes = 64

// SetOptionArg is setsockopt with a caller's buffer: val holds the bytes
// at its pointer (nil for NULL; at most min(n, 64) are read) and n the
// length it claims. Linux takes n as an int (negative is EINVAL) and
// faults on a NULL buffer it has to read (a too short length is the
// option's EINVAL first).
func (so *Socket) SetOptionArg(level, name int, val []byte, n uint32) error {
	if int32(n) < 0 {
		return unix.EINVAL
	}
	if val == nil && n > 0 {
		return unix.EFAULT
	}
	return so.SetOption(level, name, val[:min(int(n), len(val), MaxOptionBytes)])
}

// Fit is what getsockopt copies out for a buffer of room bytes, with
// Linux's rules for short buffers: a small IP-level int comes back as
// one byte, a buffer below MinRoom (an interface name's) is EINVAL,
// anything else is cut. A negative room (as a C int) is EINVAL.
func (o OptValue) Fit(room uint32) ([]byte, error) {
	if int32(room) < 0 {
		return nil, unix.EINVAL
	}
	if o.CharOK && room > 0 && room < 4 {
		if v := int32(binary.NativeEndian.Uint32(o.B[:])); v >= 0 && v <= 255 {
			return []byte{byte(v)}, nil
		}
	}
	if int(room) < o.MinRoom {
		return nil, unix.EINVAL
	}
	return o.B[:min(int(room), o.N)], nil
}

// OptionArg is getsockopt for a caller's buffer of room bytes: the bytes
// to copy out, whose length is the new *optlen.
func (so *Socket) OptionArg(level, name int, room uint32) ([]byte, error) {
	if int32(room) < 0 {
		return nil, unix.EINVAL
	}
	o, err := so.Option(level, name)
	if err != nil {
		return nil, err
	}
	return o.Fit(room)
}

// keptStatusFlags are the file status flags Linux's F_SETFL stores on a
// socket besides O_NONBLOCK. O_APPEND and O_NOATIME change nothing here
// but F_GETFL shows them back; O_ASYNC sends SIGIO to the F_SETOWN owner.
const keptStatusFlags = unix.O_APPEND | unix.O_ASYNC | unix.O_NOATIME

// Fcntl is fcntl's F_GETFL, F_SETFL, F_SETOWN and F_GETOWN: a socket is
// O_RDWR; F_SETFL sets O_NONBLOCK and the keptStatusFlags, ignores the
// other bits as Linux does, and refuses O_DIRECT (a socket has no direct
// I/O) with EINVAL, changing nothing. Other commands are EINVAL (F_GETFD
// and F_SETFD belong to the descriptor, not the socket; F_SETSIG and
// F_SETOWN_EX are not kept).
func (so *Socket) Fcntl(cmd, val int) (int, error) {
	switch cmd {
	case unix.F_SETOWN:
		return 0, so.setOwner(val)
	case unix.F_GETOWN:
		if x := so.extra.Load(); x != nil {
			return int(x.owner.Load()), nil
		}
		return 0, nil
	case unix.F_GETFL:
		fl := unix.O_RDWR
		if x := so.extra.Load(); x != nil {
			fl |= int(x.statusFlags.Load())
		}
		if so.Nonblock() {
			fl |= unix.O_NONBLOCK
		}
		return fl, nil
	case unix.F_SETFL:
		if val&unix.O_DIRECT != 0 {
			return 0, unix.EINVAL
		}
		so.extraOf().statusFlags.Store(uint32(val & keptStatusFlags))
		so.SetNonblock(val&unix.O_NONBLOCK != 0)
		return 0, nil
	}
	return 0, unix.EINVAL
}

// setOwner is F_SETOWN: who > 0 is a process, who < 0 the process group
// -who, 0 none. As Linux: one that does not exist is ESRCH, INT_MIN EINVAL.
func (so *Socket) setOwner(who int) error {
	if who == math.MinInt32 || who != int(int32(who)) {
		return unix.EINVAL
	}
	if who != 0 {
		// Signal 0 only looks the target up; EPERM means it exists.
		if err := unix.Kill(who, 0); err == unix.ESRCH {
			return unix.ESRCH
		}
	}
	so.extraOf().owner.Store(int32(who))
	return nil
}

// signalOwner sends SIGIO to the F_SETOWN owner when O_ASYNC is on, on
// each readiness change. Linux sends it as data, a connection, an error
// or the peer's FIN arrives, and for room to write after a send found
// none; here room to write signals whenever gVisor reports it.
func (x *socketExtra) signalOwner() {
	if x.statusFlags.Load()&unix.O_ASYNC == 0 {
		return
	}
	if who := x.owner.Load(); who != 0 {
		unix.Kill(int(who), unix.SIGIO)
	}
}

// Socket ioctl requests on Linux; x/sys does not name them.
const (
	IoctlFIONBIO    = 0x5421
	IoctlFIONREAD   = 0x541b
	IoctlFIOASYNC   = 0x5452
	IoctlSIOCATMARK = 0x8905
	// SIOCOUTQ (TIOCOUTQ); SIOCINQ is FIONREAD.
	IoctlSIOCOUTQ = 0x5411
	// FIOCLEX and FIONCLEX set the descriptor's close-on-exec flag, not
	// the socket's: capi runs them on the placeholder descriptor.
	IoctlFIOCLEX  = 0x5451
	IoctlFIONCLEX = 0x5450
)

// Ioctl is ioctl(2) with an int argument (arg nil for NULL): FIONBIO
// sets O_NONBLOCK from *arg, FIOASYNC O_ASYNC; FIONREAD stores the bytes
// queued to read, SIOCOUTQ those queued to send (SendQueued), SIOCATMARK
// (streams only) 0, as no urgent data is ever kept; any other request is
// ENOTTY, and so are FIONREAD and SIOCOUTQ on an ICMP socket (Linux's
// ping sockets answer neither).
func (so *Socket) Ioctl(request uint64, arg *int32) error {
	switch {
	case (request == IoctlFIONREAD || request == IoctlSIOCOUTQ) && so.pingSocket():
		return unix.ENOTTY
	case request == IoctlFIONBIO || request == IoctlFIONREAD || request == IoctlFIOASYNC ||
		request == IoctlSIOCOUTQ || request == IoctlSIOCATMARK && so.Type == unix.SOCK_STREAM:
		if arg == nil {
			return unix.EFAULT
		}
	case request>>8&0xff == 0x89 && arg == nil:
		// Linux reads a struct ifreq for a socket request (type 0x89)
		// its protocol does not know before it finds none.
		return unix.EFAULT
	default:
		return unix.ENOTTY
	}
	switch request {
	case IoctlFIONBIO:
		so.SetNonblock(*arg != 0)
		return nil
	case IoctlFIOASYNC:
		if *arg != 0 {
			so.extraOf().statusFlags.Or(unix.O_ASYNC)
		} else {
			so.extraOf().statusFlags.And(^uint32(unix.O_ASYNC))
		}
		return nil
	case IoctlSIOCATMARK:
		*arg = 0
		return nil
	}
	queued := so.ReceiveQueued
	if request == IoctlSIOCOUTQ {
		queued = so.SendQueued
	}
	v, err := queued()
	if err != nil {
		return err
	}
	*arg = int32(v)
	return nil
}

// AcceptFlags checks accept4's flags: only SOCK_NONBLOCK and SOCK_CLOEXEC.
func AcceptFlags(flags int) error {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return unix.EINVAL
	}
	return nil
}

// ReadStep is read(2): Linux's read of nothing returns 0 at once,
// whatever the socket's state; anything else is RecvStep without flags.
func (so *Socket) ReadStep(c *Call, b []byte) (RecvResult, error) {
	if len(b) == 0 {
		return RecvResult{}, nil
	}
	return so.RecvStep(c, b, RecvFlags{})
}
