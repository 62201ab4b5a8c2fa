package socket_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/socket"
	"gonetif.dev/gonetif/stack"
)

// BenchmarkUDPSend64 is the benchmark's UDP row at the Go level: 64-byte
// datagrams from a connected UDP socket on A to B over the in-memory cable
// (no TAP write), so ns/op and allocs/op are gonetif's and gVisor's part of
// a sendto. B's receive buffer overflows and drops, as a slow peer would.
//
//	go test ./gonetif/socket -run '^$' -bench UDPSend -benchmem
func BenchmarkUDPSend64(b *testing.B) {
	n := testnet.New(b)
	rcv, err := socket.New(n.B.Gvisor(), unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer rcv.Release()
	if err := rcv.Bind(addr(ipB, 5409)); err != nil {
		b.Fatal(err)
	}
	so, err := socket.New(n.A.Gvisor(), unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer so.Release()
	if err := so.Connect(addr(ipB, 5409)); err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 64)
	var c socket.Call
	for b.Loop() {
		c = socket.Call{}
		if k, err := so.SendStep(&c, msg, nil, socket.SendFlags{}); err != nil || k != len(msg) {
			b.Fatalf("send: %d %v", k, err)
		}
	}
}

// BenchmarkUDPSendPath64 is the sender's own work per 64-byte datagram:
// a connected UDP socket whose interface's link takes each frame and drops
// it (no cable, no receiving stack), so ns/op is gonetif's and gVisor's
// send path alone, the part that runs on the app's thread before the TAP
// write.
//
//	go test ./gonetif/socket -run '^$' -bench UDPSendPath -benchmem
func BenchmarkUDPSendPath64(b *testing.B) { benchUDPSendPath64(b, false) }

// BenchmarkUDPFastPath64 is BenchmarkUDPSendPath64 with the UDP fast path
// on (GONETIF_UDP_FASTPATH).
//
//	go test ./gonetif/socket -run '^$' -bench UDPFastPath -benchmem
func BenchmarkUDPFastPath64(b *testing.B) { benchUDPSendPath64(b, true) }

func benchUDPSendPath64(b *testing.B, fast bool) {
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sink := driver.New(driver.Options{MAC: "\x02\x00\x00\x00\x00\x01", Transmit: func([]byte) error { return nil }})
	so := connectedUDPOver(b, s, sink, 5410)
	if fast {
		so.SetUDPFastPath(s.Netifs.FrameOut)
	}
	msg := make([]byte, 64)
	var c socket.Call
	for b.Loop() {
		c = socket.Call{}
		if k, err := so.SendStep(&c, msg, nil, socket.SendFlags{}); err != nil || k != len(msg) {
			b.Fatalf("send: %d %v", k, err)
		}
	}
}
