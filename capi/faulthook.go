package main

// #include <stddef.h>
import "C"

// (In its own file: a file with //export may not define C in its preamble.)

// gonetif_test_go_fault is a test hook: a nil dereference in Go, recovered.
// It returns 1 when Go's own fault handler turned it into a panic, which is
// what must still happen after a host replaced SIGSEGV.
//
//export gonetif_test_go_fault
func gonetif_test_go_fault() (recovered C.int) {
	defer func() {
		if recover() != nil {
			recovered = 1
		}
	}()
	var p *int
	return C.int(*p)
}
