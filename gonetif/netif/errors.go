package netif

import "fmt"

// Code classifies a netif failure. The C layer maps each code to one
// esp_err_t; Go callers can switch on it with errors.As.
type Code int

// Failure classes, named after the esp_netif errors they become.
const (
	ErrInvalidParams Code = iota + 1
	ErrIfNotReady
	ErrInvalidState
	ErrNoMem
	ErrInitFailed
	ErrDriverAttachFailed
	ErrDHCPAlreadyStarted
	ErrDHCPAlreadyStopped
	ErrDHCPNotStopped
	ErrDHCPStartFailed
	ErrTxFailed
	ErrNotSupported
	ErrNotFound
	ErrInvalidArg // esp_err_t's generic INVALID_ARG, where IDF uses it
	ErrIP6AddrFailed
	ErrMLD6Failed
)

var codeNames = map[Code]string{
	ErrInvalidParams:      "invalid parameters",
	ErrIfNotReady:         "interface not ready",
	ErrInvalidState:       "invalid state",
	ErrNoMem:              "out of memory",
	ErrInitFailed:         "initialisation failed",
	ErrDriverAttachFailed: "driver attach failed",
	ErrDHCPAlreadyStarted: "DHCP already started",
	ErrDHCPAlreadyStopped: "DHCP already stopped",
	ErrDHCPNotStopped:     "DHCP not stopped",
	ErrDHCPStartFailed:    "DHCP start failed",
	ErrTxFailed:           "transmit failed",
	ErrNotSupported:       "not supported",
	ErrNotFound:           "not found",
	ErrInvalidArg:         "invalid argument",
	ErrIP6AddrFailed:      "IPv6 address failed",
	ErrMLD6Failed:         "MLD6 failed",
}

func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("netif error %d", int(c))
}

// Error is the error type of every netif operation.
type Error struct {
	Code Code
	Key  string // interface key, "" when not known
	Op   string
	Err  error // underlying cause, may be nil
}

func (e *Error) Error() string {
	s := "netif"
	if e.Key != "" {
		s += " " + e.Key
	}
	s += ": " + e.Op + ": " + e.Code.String()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func newError(code Code, key, op string, cause error) *Error {
	return &Error{Code: code, Key: key, Op: op, Err: cause}
}
