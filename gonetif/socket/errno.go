package socket

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Errors returned by this package are always unix.Errno values with the
// meaning Linux gives them, so C callers can copy them into errno as they
// are and Go callers can compare with errors.Is(err, unix.EAGAIN).

// errnoOf maps a gVisor error to the errno Linux reports in the same case.
// This is the one place where that mapping lives.
func errnoOf(err tcpip.Error) unix.Errno {
	switch err.(type) {
	case nil:
		return 0
	case *tcpip.ErrWouldBlock:
		return unix.EAGAIN
	case *tcpip.ErrConnectStarted:
		return unix.EINPROGRESS
	case *tcpip.ErrAlreadyConnecting:
		return unix.EALREADY
	case *tcpip.ErrAlreadyConnected:
		return unix.EISCONN
	case *tcpip.ErrNotConnected:
		return unix.ENOTCONN
	case *tcpip.ErrConnectionRefused:
		return unix.ECONNREFUSED
	case *tcpip.ErrConnectionReset:
		return unix.ECONNRESET
	case *tcpip.ErrConnectionAborted:
		return unix.ECONNABORTED
	case *tcpip.ErrTimeout:
		return unix.ETIMEDOUT
	case *tcpip.ErrClosedForSend, *tcpip.ErrAborted:
		return unix.EPIPE
	case *tcpip.ErrPortInUse:
		return unix.EADDRINUSE
	case *tcpip.ErrBadLocalAddress:
		return unix.EADDRNOTAVAIL
	case *tcpip.ErrNoPortAvailable:
		return unix.EAGAIN
	case *tcpip.ErrDestinationRequired:
		return unix.EDESTADDRREQ
	case *tcpip.ErrHostUnreachable:
		return unix.EHOSTUNREACH
	case *tcpip.ErrNetworkUnreachable:
		return unix.ENETUNREACH
	case *tcpip.ErrHostDown:
		return unix.EHOSTDOWN
	case *tcpip.ErrNoNet:
		return unix.ENONET
	case *tcpip.ErrMessageTooLong:
		return unix.EMSGSIZE
	case *tcpip.ErrNoBufferSpace:
		return unix.ENOBUFS
	case *tcpip.ErrBroadcastDisabled:
		return unix.EACCES
	case *tcpip.ErrNotPermitted:
		return unix.EPERM
	case *tcpip.ErrAddressFamilyNotSupported:
		return unix.EAFNOSUPPORT
	case *tcpip.ErrNotSupported:
		return unix.EOPNOTSUPP
	case *tcpip.ErrQueueSizeNotSupported:
		return unix.ENOTTY
	case *tcpip.ErrUnknownProtocolOption:
		return unix.ENOPROTOOPT
	case *tcpip.ErrUnknownProtocol:
		return unix.EPROTONOSUPPORT
	case *tcpip.ErrUnknownNICID, *tcpip.ErrUnknownDevice, *tcpip.ErrInvalidNICID:
		return unix.ENODEV
	case *tcpip.ErrDuplicateAddress, *tcpip.ErrDuplicateNICID:
		return unix.EEXIST
	case *tcpip.ErrBadAddress, *tcpip.ErrBadBuffer:
		return unix.EFAULT
	case *tcpip.ErrNoSuchFile:
		return unix.ENOENT
	case *tcpip.ErrEndpointBusy:
		return unix.EBUSY
	default:
		// ErrInvalidEndpointState, ErrAlreadyBound, ErrInvalidOptionValue,
		// ErrMalformedHeader, ErrInvalidPortRange and friends.
		return unix.EINVAL
	}
}
