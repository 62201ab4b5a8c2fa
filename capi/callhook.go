package main

import "C"

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// gonetif_port_count_calls makes fn the cgo context hook: runtime/cgo calls
// it as each C->Go call starts and ends, on the calling thread. The
// FreeRTOS port counts with it the calls a task thread is inside, so that
// the scheduler's tick never switches a task out in the middle of Go code
// (capi/port/freertos.c). The first hook stays; later calls change nothing.
//
//export gonetif_port_count_calls
func gonetif_port_count_calls(fn unsafe.Pointer) {
	countCallsOnce.Do(func() { runtime.SetCgoTraceback(0, nil, fn, nil) })
	// Only the FreeRTOS port counts calls. Its tasks must not block in
	// ppoll(2) outside its tick rules: no run-to-completion receive.
	freertosPort.Store(true)
	inlineReceive.Store(false)
	if rtcSetting.Load() {
		logf(logWarn, "%s", rtcRefused)
	}
}

// rtcRefused is the warning when GONETIF_TCP_RTC=1 meets the FreeRTOS port.
const rtcRefused = "GONETIF_TCP_RTC=1 is ignored under the FreeRTOS port: blocked tasks wait natively " +
	"and the TAP reader delivers (the inline TCP processing it turns on stays on)"

// freertosPort: gonetif_port_count_calls ran; rtcSetting: GONETIF_TCP_RTC=1.
var freertosPort, rtcSetting atomic.Bool

var countCallsOnce sync.Once
