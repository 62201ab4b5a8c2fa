package socket

import (
	"bytes"
	"encoding/binary"
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// The socket options that are about waiting (SO_RCVTIMEO, SO_SNDTIMEO)
// and SO_BINDTODEVICE, which speaks interface names.

// DeviceNames resolves the interface names of SO_BINDTODEVICE. The
// default is the stack's own NIC names; an embedder whose interfaces have
// other names (the C side: "tp0", an if_key) installs its own.
type DeviceNames interface {
	Index(name string) (int, bool)
	Name(index int) (string, bool)
}

// SetDeviceNames installs how SO_BINDTODEVICE names interfaces (nil: the
// stack's NIC names).
func (so *Socket) SetDeviceNames(d DeviceNames) {
	so.devNames.Store(&d)
	so.udpFastChanged()
}

func (so *Socket) deviceNames() DeviceNames {
	if d := so.devNames.Load(); d != nil && *d != nil {
		return *d
	}
	return nicNames{so}
}

type nicNames struct{ so *Socket }

func (n nicNames) Index(name string) (int, bool) {
	if n.so.stack == nil {
		return 0, false
	}
	for id, info := range n.so.stack.NICInfo() {
		if info.Name == name {
			return int(id), true
		}
	}
	return 0, false
}

func (n nicNames) Name(index int) (string, bool) {
	if n.so.stack == nil {
		return "", false
	}
	for id, info := range n.so.stack.NICInfo() {
		if int(id) == index {
			return info.Name, true
		}
	}
	return "", false
}

// sizeofTimeval is struct timeval's size in Linux's layout.
const sizeofTimeval = 16

// setSocketLevelWaitOption handles the options of this file; handled is
// false for any other.
func (so *Socket) setSocketLevelWaitOption(name int, val []byte) (handled bool, err error) {
	switch name {
	case unix.SO_RCVTIMEO, unix.SO_SNDTIMEO:
		if len(val) < sizeofTimeval {
			return true, unix.EINVAL
		}
		sec := int64(binary.NativeEndian.Uint64(val))
		usec := int64(binary.NativeEndian.Uint64(val[8:]))
		if usec < 0 || usec >= 1_000_000 {
			return true, unix.EDOM
		}
		var ns int64 // 0: wait forever, as for a negative time
		if sec >= 0 {
			ns = min(sec, math.MaxInt64/int64(time.Second)-1)*int64(time.Second) + usec*int64(time.Microsecond)
		}
		if name == unix.SO_RCVTIMEO {
			so.blk.rcvTimeout.Store(ns)
		} else {
			so.blk.sndTimeout.Store(ns)
		}
		return true, nil
	case unix.SO_BINDTODEVICE:
		// Linux reads at most IFNAMSIZ-1 bytes, up to the first NUL.
		dev := val[:min(len(val), unix.IFNAMSIZ-1)]
		if i := bytes.IndexByte(dev, 0); i >= 0 {
			dev = dev[:i]
		}
		index := 0
		if len(dev) > 0 {
			var ok bool
			if index, ok = so.deviceNames().Index(string(dev)); !ok || index <= 0 {
				return true, unix.ENODEV
			}
		}
		return true, so.SetOptionInt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, index)
	}
	return false, nil
}

// socketLevelWaitOption reads the options of this file.
func (so *Socket) socketLevelWaitOption(name int) (o OptValue, handled bool, err error) {
	switch name {
	case unix.SO_RCVTIMEO, unix.SO_SNDTIMEO:
		ns := so.blk.rcvTimeout.Load()
		if name == unix.SO_SNDTIMEO {
			ns = so.blk.sndTimeout.Load()
		}
		us := ns / int64(time.Microsecond)
		binary.NativeEndian.PutUint64(o.B[:], uint64(us/1_000_000))
		binary.NativeEndian.PutUint64(o.B[8:], uint64(us%1_000_000))
		o.N = sizeofTimeval
		return o, true, nil
	case unix.SO_BINDTODEVICE:
		index := int(so.endpoint().SocketOptions().GetBindToDevice())
		if index == 0 {
			return o, true, nil // no device: an empty answer
		}
		dev, ok := so.deviceNames().Name(index)
		if !ok || len(dev) >= len(o.B) {
			return o, true, unix.ENODEV
		}
		o.N = copy(o.B[:], dev) + 1
		o.MinRoom = unix.IFNAMSIZ
		return o, true, nil
	}
	return o, false, nil
}
