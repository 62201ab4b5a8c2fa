package socket

import (
	"testing"
	"unsafe"
)

// Every open TCP socket holds one Socket and one coalescer; their flags
// sit side by side so each takes a size class less (224 -> 208, 96 -> 80
// bytes). A new field that pads either past its class fails here, not
// only in the heap figures of TestMemoryPerConnection.
func TestSocketSizeClasses(t *testing.T) {
	if n := unsafe.Sizeof(Socket{}); n > 208 {
		t.Errorf("Socket is %d bytes, want at most 208 (Go's size class; 224 is the next)", n)
	}
	if n := unsafe.Sizeof(coalescer{}); n > 80 {
		t.Errorf("coalescer is %d bytes, want at most 80 (Go's size class; 96 is the next)", n)
	}
}
