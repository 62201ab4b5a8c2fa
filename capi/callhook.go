package main

import "C"

import (
	"runtime"
	"sync"
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
}

var countCallsOnce sync.Once
