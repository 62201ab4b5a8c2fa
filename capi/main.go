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
	"strings"
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
		opts := stack.Options{}
		// Linux's net.ipv4.ip_local_port_range, "low high".
		if v := os.Getenv("GONETIF_LOCAL_PORT_RANGE"); v != "" {
			r, err := parsePortRange(v)
			if err != nil {
				initErr = err
				logf(logError, "%v", err)
				return
			}
			opts.LocalPortRange = r
		}
		s, err := gonetif.New(opts)
		if err != nil {
			initErr = err
			return
		}
		theStack = s
		// How long closed connections may still send at destroy and exit.
		if v := os.Getenv("GONETIF_EXIT_LINGER_MS"); v != "" {
			ms, err := strconv.ParseUint(strings.TrimSpace(v), 10, 31)
			if err != nil {
				logf(logError, "GONETIF_EXIT_LINGER_MS=%q: want milliseconds, 0 or more; using %v", v, s.ExitLinger)
			} else {
				s.ExitLinger = time.Duration(ms) * time.Millisecond
			}
		}
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

// parsePortRange reads "low high" (inclusive, 1..65535, low <= high).
func parsePortRange(v string) ([2]uint16, error) {
	f := strings.Fields(v)
	bad := fmt.Errorf("GONETIF_LOCAL_PORT_RANGE=%q: want two ports \"low high\", 1 <= low <= high <= 65535", v)
	if len(f) != 2 {
		return [2]uint16{}, bad
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 16)
	hi, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || lo == 0 || lo > hi {
		return [2]uint16{}, bad
	}
	return [2]uint16{uint16(lo), uint16(hi)}, nil
}
