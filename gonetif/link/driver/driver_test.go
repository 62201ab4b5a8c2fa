package driver_test

import (
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif/link/driver"
)

func TestReceiveDropsWhatIsNotAFrame(t *testing.T) {
	ep := driver.New(driver.Options{MAC: tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01"), Transmit: func([]byte) error { return nil }})
	// Not attached to a stack yet: dropped, counted, no panic.
	if ep.Receive(make([]byte, 60)) {
		t.Fatal("frame accepted with no stack attached")
	}
	if ep.Receive(nil) || ep.Receive([]byte{1, 2, 3}) {
		t.Fatal("runt accepted")
	}
	if got := ep.Stats().RxDropped; got != 3 {
		t.Fatalf("RxDropped = %d, want 3", got)
	}
	if ep.MTU() != 1500 {
		t.Fatalf("MTU = %d, want 1500", ep.MTU())
	}
}

func TestNewNeedsTransmit(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a nil Transmit")
		}
	}()
	driver.New(driver.Options{})
}
