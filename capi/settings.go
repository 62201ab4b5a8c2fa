package main

/*
#include <stddef.h>
#include <stdlib.h>
*/
import "C"

import (
	"sync"
	"unsafe"

	"gonetif.dev/gonetif/config"
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

// reportBadSettings logs one IDF-format error line per bad setting (the
// C log reports the rows it reads itself).
func reportBadSettings(v *config.Values) {
	for _, s := range config.Table {
		if err := v.Err(s.Name); err != nil && !s.LoggedByC {
			logf(logError, "%v", err)
		}
	}
}

// gonetif_setting_uint gives C a validated number setting (a Uint's value,
// an Enum's index, a Bool as 0/1): ESP_OK, ESP_ERR_NOT_FOUND for a name
// missing from the table, ESP_ERR_INVALID_ARG for a bad value (out then
// holds the default; the reason was logged at start-up).
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
