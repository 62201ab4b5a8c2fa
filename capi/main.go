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
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gonetif/gonetif/gonetif"
	"github.com/gonetif/gonetif/gonetif/stack"
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
		var opts stack.Options
		// A lower floor for TCP's retransmission timer, for links known
		// to be short (see stack.Options.MinRTO).
		if v := os.Getenv("GONETIF_TCP_MIN_RTO_MS"); v != "" {
			ms, err := strconv.Atoi(v)
			if err != nil || ms < 1 || ms > 200 {
				initErr = fmt.Errorf("GONETIF_TCP_MIN_RTO_MS=%q: want 1..200", v)
				return
			}
			opts.MinRTO = time.Duration(ms) * time.Millisecond
		}
		s, err := gonetif.New(opts)
		if err != nil {
			initErr = err
			return
		}
		theStack = s
		s.Netifs.OnEvent(forwardEvent)
		s.Netifs.OnLog(func(line string) { logf(logInfo, "%s", line) })
		// The lost-IP timer, shorter for tests (IDF: 120 s, a Kconfig value).
		if ms, err := strconv.Atoi(os.Getenv("GONETIF_IP_LOST_TIMER_MS")); err == nil && ms > 0 {
			s.Netifs.LostIPDelay = time.Duration(ms) * time.Millisecond
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
		logf(logError, "stack start failed: %v", err)
		return espFail
	}
	return espOK
}
