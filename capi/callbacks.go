package main

// The C functions Go calls back into, reached through the pointers the
// glue registered with gonetif_abi_init. Kept in a file without //export
// so the preamble may define the trampolines.

/*
#include <stdlib.h>
#include "glue/gonetif_abi.h"

static void call_log_line(struct gonetif_abi_callbacks *cb, int level, const char *tag, const char *msg) {
	if (cb->log_line) cb->log_line(level, tag, msg);
}
static int call_driver_transmit(struct gonetif_abi_callbacks *cb, void *cookie, const void *frame, size_t len) {
	return cb->driver_transmit ? cb->driver_transmit(cookie, frame, len) : 0x5002;
}
static void call_ip_event(struct gonetif_abi_callbacks *cb, void *cookie, int32_t id, uint32_t ip, uint32_t mask,
		uint32_t gw, int changed) {
	if (cb->ip_event) cb->ip_event(cookie, id, ip, mask, gw, changed);
}
static void call_ip6_event(struct gonetif_abi_callbacks *cb, void *cookie, int32_t id, const uint8_t *addr, int zone,
		int index) {
	if (cb->ip6_event) cb->ip6_event(cookie, id, addr, zone, index);
}
*/
import "C"

import (
	"fmt"
	"os"
	"unsafe"
)

// logf writes one log line through the C logger, so Go and C lines share
// one format, one level filter and one lock.
func logf(level int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !haveCB || callbacks.log_line == nil {
		fmt.Fprintf(os.Stderr, "%s: %s\n", logTag, msg)
		return
	}
	ctag := C.CString(logTag)
	cmsg := C.CString(msg)
	C.call_log_line(&callbacks, C.int(level), ctag, cmsg)
	C.free(unsafe.Pointer(ctag))
	C.free(unsafe.Pointer(cmsg))
}

func driverTransmit(cookie unsafe.Pointer, frame []byte) C.int {
	if len(frame) == 0 {
		return espOK
	}
	return C.call_driver_transmit(&callbacks, cookie, unsafe.Pointer(&frame[0]), C.size_t(len(frame)))
}

func postIPEvent(cookie unsafe.Pointer, id int32, ip, mask, gw C.uint32_t, changed bool) {
	if !haveCB {
		return
	}
	ch := C.int(0)
	if changed {
		ch = 1
	}
	C.call_ip_event(&callbacks, cookie, C.int32_t(id), ip, mask, gw, ch)
}

func postIP6Event(cookie unsafe.Pointer, id int32, addr [16]byte, zone, index int) {
	if !haveCB {
		return
	}
	C.call_ip6_event(&callbacks, cookie, C.int32_t(id), (*C.uint8_t)(unsafe.Pointer(&addr[0])), C.int(zone), C.int(index))
}
