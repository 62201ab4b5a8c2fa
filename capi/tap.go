package main

/*
#include <stdint.h>
*/
import "C"

import (
	"sync"

	"gonetif.dev/gonetif/tapio"
)

// tapOpens counts the devices opened so far, so the n-th device of a
// process takes the n-th entry of GONETIF_TAP / GONETIF_MAC; a failed
// open takes no entry. tapOpenMu keeps an index from being handed out
// twice while its open is under way.
var (
	tapOpenMu sync.Mutex
	tapOpens  int
)

//export gonetif_tap_open
func gonetif_tap_open(name *C.char, mac *C.uint8_t, mtu C.int, plain C.int, netns *C.char,
	inLoss, outLoss C.int, pcap *C.char, appInLoss, appOutLoss C.int, link, hostfwd *C.char) C.int {
	tapOpenMu.Lock()
	defer tapOpenMu.Unlock()
	index := tapOpens
	vals, _ := settings()
	cfg, err := tapio.FromValues(tapio.Config{
		Name:    goString(name),
		MAC:     goMAC(mac),
		MTU:     uint32(max(int(mtu), 0)),
		Plain:   plain != 0,
		NetNS:   goString(netns),
		InLoss:  int(inLoss),
		OutLoss: int(outLoss),
		PCAP:    goString(pcap),
		Link:    goString(link),
		HostFwd: goString(hostfwd),
		Logf:    func(format string, args ...any) { logf(logWarn, format, args...) },
		// The app's sdkconfig values, passed by tapio.h's inline part.
		AppInLoss:  int(appInLoss),
		AppOutLoss: int(appOutLoss),
	}, vals, index)
	if err != nil {
		return -espErr(err)
	}
	d, err := tapio.Open(cfg)
	if err != nil {
		return -espErr(err)
	}
	tapOpens++
	if cfg.PCAP != "" {
		flushCapturesOnFatalSignals()
	}
	logf(logInfo, "%s", d.Describe())
	return C.int(links.add(d))
}

//export gonetif_link_close
func gonetif_link_close(link C.int) {
	if d, ok := links.remove(int(link)); ok {
		d.Close()
	}
}

// gonetif_capture_flush writes out every capture's buffered frames; the
// glue calls it at exit (atexit), which Go cannot see.
//
//export gonetif_capture_flush
func gonetif_capture_flush() { flushCaptures() }
