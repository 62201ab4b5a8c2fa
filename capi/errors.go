package main

import "C"

import (
	"errors"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/dns"
	"gonetif.dev/gonetif/link/usernet"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/tapio"
)

// esp_err_t values used at this boundary.
const (
	espOK                 = 0
	espFail               = -1
	espErrNoMem           = 0x101
	espErrInvalidArg      = 0x102
	espErrInvalidState    = 0x103
	espErrNotFound        = 0x105
	espErrNotSupported    = 0x106
	netifInvalidParams    = 0x5001
	netifIfNotReady       = 0x5002
	netifDHCPCStartFailed = 0x5003
	netifDHCPStarted      = 0x5004
	netifDHCPStopped      = 0x5005
	netifNoMem            = 0x5006
	netifDHCPNotStopped   = 0x5007
	netifAttachFailed     = 0x5008
	netifInitFailed       = 0x5009
	netifMLD6Failed       = 0x500B
	netifIP6AddrFailed    = 0x500C
	netifTxFailed         = 0x500E
)

var netifCodes = map[netif.Code]C.int{
	netif.ErrInvalidParams:      netifInvalidParams,
	netif.ErrIfNotReady:         netifIfNotReady,
	netif.ErrInvalidState:       espErrInvalidState,
	netif.ErrNoMem:              netifNoMem,
	netif.ErrInitFailed:         netifInitFailed,
	netif.ErrDriverAttachFailed: netifAttachFailed,
	netif.ErrDHCPAlreadyStarted: netifDHCPStarted,
	netif.ErrDHCPAlreadyStopped: netifDHCPStopped,
	netif.ErrDHCPNotStopped:     netifDHCPNotStopped,
	netif.ErrDHCPStartFailed:    netifDHCPCStartFailed,
	netif.ErrTxFailed:           netifTxFailed,
	netif.ErrNotSupported:       espErrNotSupported,
	netif.ErrNotFound:           espErrNotFound,
	netif.ErrInvalidArg:         espErrInvalidArg,
	netif.ErrIP6AddrFailed:      netifIP6AddrFailed,
	netif.ErrMLD6Failed:         netifMLD6Failed,
}

// espErr is the one place where Go errors become esp_err_t. It also logs
// the failure, so every error a C caller sees has a line explaining it.
func espErr(err error) C.int {
	if err == nil {
		return espOK
	}
	logf(logError, "%v", err)
	var ne *netif.Error
	if errors.As(err, &ne) {
		if c, ok := netifCodes[ne.Code]; ok {
			return c
		}
		return espFail
	}
	if errors.Is(err, usernet.ErrBadOptions) || errors.Is(err, usernet.ErrBadHostForward) {
		return espErrInvalidArg
	}
	var te *tapio.Error
	if errors.As(err, &te) {
		if errors.Is(err, unix.EINVAL) {
			return espErrInvalidArg
		}
		return netifInitFailed
	}
	if errors.Is(err, unix.ENOMEM) {
		return espErrNoMem
	}
	return espFail
}

// negErrno turns a socket error into the negated errno the C glue expects
// (0 for nil).
func negErrno(err error) C.int {
	if err == nil {
		return 0
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return -C.int(errno)
	}
	return -C.int(unix.EIO)
}

// ifNameErrno is the errno of a failed interface-name lookup: Linux
// reports an unknown name as ENODEV and an unknown index as ENXIO, so the
// caller says which one its "not found" is.
func ifNameErrno(err error, notFound unix.Errno) C.int {
	logf(logDebug, "%v", err)
	var ne *netif.Error
	if errors.As(err, &ne) && ne.Code == netif.ErrNotFound {
		return -C.int(notFound)
	}
	if errors.Is(err, unix.ENOMEM) {
		return -C.int(unix.ENOMEM)
	}
	return -C.int(notFound)
}

// eaiOf is where resolver errors become EAI_* codes. GetAddrInfo's errors
// carry theirs (glibc's values, checked against <netdb.h> in abi_check.go);
// anything else is a system failure.
func eaiOf(err error) C.int {
	var ge *dns.GaiError
	if errors.As(err, &ge) {
		return C.int(ge.Code)
	}
	if errors.Is(err, unix.ENOMEM) {
		return eaiMemory
	}
	return eaiSystem
}

const (
	eaiMemory = dns.EAIMemory
	eaiSystem = dns.EAISystem
)
