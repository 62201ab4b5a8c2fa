package main

// Go's fault handlers, saved when the Go side initialises (the runtime has
// installed them by then), so capi/port/signals.c can put them back after a
// host such as IDF replaces them with its own.

/*
#include <signal.h>
#include <string.h>

struct sigaction gonetif_go_fault_handlers[3];
int gonetif_go_fault_signals[3];

static void gonetif_save_go_fault_handlers(void)
{
	static const int sigs[3] = {SIGSEGV, SIGBUS, SIGFPE};
	for (int i = 0; i < 3; i++) {
		if (sigaction(sigs[i], NULL, &gonetif_go_fault_handlers[i]) == 0) {
			gonetif_go_fault_signals[i] = sigs[i];
		}
	}
}
*/
import "C"

func init() {
	C.gonetif_save_go_fault_handlers()
}
