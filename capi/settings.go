package main

/*
#include <stddef.h>
#include <stdlib.h>
*/
import "C"

import (
	"sync"
	"unsafe"

	"github.com/gonetif/gonetif/gonetif/config"
)

// The process's settings, read once from the environment: every GONETIF_*
// variable is read here and nowhere else.
var (
	settingsOnce sync.Once
	settingsVals *config.Values
	settingsErr  error
)

func settings() (*config.Values, error) {
	settingsOnce.Do(func() { settingsVals, settingsErr = config.Load(cLookupEnv) })
	return settingsVals, settingsErr
}

// cLookupEnv reads the C environment: Go's copy is taken when the archive
// loads, before the app's main could setenv.
func cLookupEnv(name string) (string, bool) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	v := C.getenv(cname)
	if v == nil {
		return "", false
	}
	return C.GoString(v), true
}

// reported holds the bad settings already explained (by reportBadSettings
// or by C through gonetif_setting_error), so each gets one line.
var (
	reportedMu sync.Mutex
	reported   = map[string]bool{}
)

func firstReport(name string) bool {
	reportedMu.Lock()
	defer reportedMu.Unlock()
	first := !reported[name]
	reported[name] = true
	return first
}

// reportBadSettings logs one IDF-format error line per bad setting.
func reportBadSettings(v *config.Values) {
	for _, s := range config.Table {
		if err := v.Err(s.Name); err != nil && firstReport(s.Name) {
			logf(logError, "%v", err)
		}
	}
}

// gonetif_setting_uint gives C a validated number setting (a Uint's value,
// an Enum's index, a Bool as 0/1): ESP_OK, ESP_ERR_NOT_FOUND for a name
// missing from the table, ESP_ERR_INVALID_ARG for a bad value (out then
// holds the default and the reason is in gonetif_setting_error).
//
//export gonetif_setting_uint
func gonetif_setting_uint(name *C.char, out *C.ulonglong) C.int {
	if name == nil || out == nil {
		return espErrInvalidArg
	}
	s, ok := config.Lookup(C.GoString(name))
	if !ok || s.Kind == config.String || s.Kind == config.List || s.Kind == config.MACList {
		return espErrNotFound
	}
	v, _ := settings()
	*out = C.ulonglong(v.Uint(s.Name))
	if v.Err(s.Name) != nil {
		return espErrInvalidArg
	}
	return espOK
}

// gonetif_setting_error writes why a setting is bad (NUL-terminated,
// truncated to len) and returns its length; 0 when it is good or was
// already explained (the caller logs what it gets).
//
//export gonetif_setting_error
func gonetif_setting_error(name *C.char, buf *C.char, n C.size_t) C.int {
	if name == nil {
		return 0
	}
	if _, ok := config.Lookup(C.GoString(name)); !ok {
		return 0
	}
	v, _ := settings()
	err := v.Err(C.GoString(name))
	if err == nil || !firstReport(C.GoString(name)) {
		return 0
	}
	msg := err.Error()
	if buf != nil && n > 0 {
		dst := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))
		k := copy(dst[:len(dst)-1], msg)
		dst[k] = 0
	}
	return C.int(len(msg))
}
