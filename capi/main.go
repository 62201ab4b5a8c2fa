// Command capi is the C face of gonetif, built with -buildmode=c-archive.
// It translates plain C values to gonetif calls and results back to
// esp_err_t and errno; the IDF-typed C glue in capi/glue sits on top.
package main

/*
#include <stdlib.h>
#include "glue/gonetif_abi.h"
*/
import "C"

import (
	"sync"
	"time"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/config"
	"gonetif.dev/gonetif/stack"
)

func main() {}

// Log levels, as esp_log_level_t.
const (
	logError = 1
	logWarn  = 2
	logInfo  = 3
	logDebug = 4
)

const logTag = "gonetif"

var (
	initOnce  sync.Once
	initErr   error
	theStack  *gonetif.Stack
	callbacks C.struct_gonetif_abi_callbacks
	haveCB    bool
)

// ensureStack builds the process-wide stack on first use.
func ensureStack() (*gonetif.Stack, error) {
	initOnce.Do(func() {
		vals, err := settings()
		if err != nil {
			// Every bad setting gets its own line; the app gets
			// ESP_ERR_INVALID_ARG from esp_netif_init (see errors.go).
			reportBadSettings(vals)
			initErr = &settingsError{err}
			return
		}
		var opts stack.Options
		if vals.IsSet(config.LocalPortRange) {
			opts.LocalPortRange, _ = config.ParsePortRange(vals.Text(config.LocalPortRange)) // checked by config
		}
		// A lower floor for TCP's retransmission timer, for links known
		// to be short (see stack.Options.MinRTO).
		if vals.IsSet(config.TCPMinRTOMS) {
			opts.MinRTO = time.Duration(vals.Uint(config.TCPMinRTOMS)) * time.Millisecond
		}
		// Inline TCP processing (stack.Options.TCPInline).
		// Run-to-completion receive needs it: the caller's thread must do
		// the TCP work of the frames it reads.
		opts.TCPInline = vals.Bool(config.TCPInline) || vals.Bool(config.TCPRTC)
		s, err := gonetif.New(opts)
		if err != nil {
			initErr = err
			return
		}
		theStack = s
		// How long closed connections may still send at destroy and exit.
		s.ExitLinger = time.Duration(vals.Uint(config.ExitLingerMS)) * time.Millisecond
		s.Netifs.OnEvent(forwardEvent)
		s.Netifs.OnLog(func(line string) { logf(logInfo, "%s", line) })
		// The lost-IP timer, shorter for tests (IDF: 120 s, a Kconfig value).
		if vals.IsSet(config.IPLostTimerMS) {
			s.Netifs.LostIPDelay = time.Duration(vals.Uint(config.IPLostTimerMS)) * time.Millisecond
		}
		s.Netifs.TxQueue = int(vals.Uint(config.TxQueue))
		s.Netifs.AckHold = time.Duration(vals.Uint(config.AckHoldUS)) * time.Microsecond
		s.Netifs.UDPQueue = vals.Bool(config.UDPQueue)
		// Small writes buffered while Nagle holds them (socket/coalesce.go).
		s.Sockets.SendCoalesce = vals.Bool(config.SendCoalesce)
		// Run-to-completion receive (socket/rtc.go); the TAPs take turns
		// with callers (tapio reads the same setting).
		if vals.Bool(config.TCPRTC) {
			s.EnableInlineReceive()
			rtcSetting.Store(true)
			inlineReceive.Store(!freertosPort.Load())
			if freertosPort.Load() {
				logf(logWarn, "%s", rtcRefused)
			}
		}
		if vals.Bool(config.UDPFastPath) { // socket/udpfast.go
			s.Sockets.UDPFastPath = s.Netifs.FrameOut
		}
	})
	return theStack, initErr
}

//export gonetif_abi_init
func gonetif_abi_init(cb *C.struct_gonetif_abi_callbacks, slots *C.struct_gonetif_wait_slot, nslots C.int) C.int {
	if cb != nil {
		callbacks = *cb
		haveCB = true
	}
	setWaitSlots(slots, int(nslots))
	if _, err := ensureStack(); err != nil {
		if _, bad := err.(*settingsError); bad {
			return espErrInvalidArg // each bad setting was logged
		}
		logf(logError, "stack start failed: %v", err)
		return espFail
	}
	return espOK
}

// settingsError is a start-up failure caused by bad GONETIF_* values.
type settingsError struct{ err error }

func (e *settingsError) Error() string { return e.err.Error() }
func (e *settingsError) Unwrap() error { return e.err }
