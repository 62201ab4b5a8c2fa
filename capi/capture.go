package main

/*
#include <signal.h>
#include <stddef.h>

// 1 when sig still has its default action (nobody installed a handler or
// ignored it), which for the signals below is to terminate the process.
static int gnt_signal_is_default(int sig)
{
	struct sigaction sa;
	if (sigaction(sig, NULL, &sa) != 0) {
		return 0;
	}
	return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL;
}
*/
import "C"

import (
	"os"
	"os/signal"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/link/capture"
)

// fatalSignals end a process by default; captures are flushed first.
var fatalSignals = []unix.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP}

var captureSignalsOnce sync.Once

// flushCapturesOnFatalSignals makes SIGINT, SIGTERM and SIGHUP flush every
// capture and then take their default action, for the signals whose
// default action is still in place: an application's own handler is left
// alone (its exit then flushes through the atexit hook of tapio.c).
func flushCapturesOnFatalSignals() {
	captureSignalsOnce.Do(func() {
		var sigs []os.Signal
		for _, s := range fatalSignals {
			if C.gnt_signal_is_default(C.int(s)) == 1 {
				sigs = append(sigs, s)
			}
		}
		if len(sigs) == 0 {
			return
		}
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, sigs...)
		go func() {
			sig := (<-ch).(unix.Signal)
			if err := capture.FlushAll(); err != nil {
				logf(logError, "capture flush on %v: %v", sig, err)
			}
			// Back to the default action, and die of the signal as the
			// process would have without us.
			signal.Reset(sig)
			_ = unix.Kill(unix.Getpid(), sig)
			time.Sleep(2 * time.Second) // blocked in every thread: exit as the shell would report it
			os.Exit(128 + int(sig))
		}()
	})
}
