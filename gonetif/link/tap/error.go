package tap

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Error is returned by Open. Err is the underlying errno, so
// errors.Is(err, unix.ENODEV) (or fs.ErrPermission for EPERM/EACCES) works:
//
//	ENOENT  the clone device (/dev/net/tun) is missing
//	ENODEV  the interface does not exist and Options.Create is false
//	EPERM, EACCES  the TAP belongs to another user, or the device is not accessible
//	EBUSY   another process has the TAP open
//	EINVAL  invalid Options, or the interface exists but is not a TAP
//
// The hints in messages name no Go field: the C API's users see them too,
// and the layer that knows their settings (tapio) adds those names.
type Error struct {
	Name string // interface name
	Op   string // step that failed, e.g. "TUNSETIFF"
	Err  error  // usually a unix.Errno

	detail string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("tap %q: %s: %v", e.Name, e.Op, e.Err)
	if e.detail != "" {
		msg += " (" + e.detail + ")"
	}
	if h := e.hint(); h != "" {
		msg += ": " + h
	}
	return msg
}

// Unwrap returns the errno.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) hint() string {
	switch {
	case errors.Is(e.Err, unix.ENODEV):
		return "the interface does not exist; create it first (scripts/make_tap_netif, or ip tuntap add dev NAME mode tap user USER)"
	case errors.Is(e.Err, unix.EPERM), errors.Is(e.Err, unix.EACCES):
		if e.Op == "open" {
			return "the TUN/TAP device is not accessible to this user"
		}
		return "the TAP must be owned by this user (scripts/make_tap_netif creates it so) or the process needs CAP_NET_ADMIN"
	case errors.Is(e.Err, unix.ENOENT) && e.Op == "open":
		return "no TUN/TAP clone device at that path (load the tun module, or name the right device)"
	case errors.Is(e.Err, unix.EBUSY):
		return "the TAP is already in use by another process or endpoint"
	case errors.Is(e.Err, unix.EINVAL) && e.Op == "TUNSETIFF":
		return "the interface exists but is not a TAP device"
	}
	return ""
}

func newErr(name, op string, err error) *Error {
	return &Error{Name: name, Op: op, Err: err}
}
