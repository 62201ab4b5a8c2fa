package socket_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
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
