package socket_test

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/socket"
	"gonetif.dev/gonetif/stack"
)

// BSD sockets with Linux answers and Linux's blocking rules: Connect and
// Recv wait (bounded here by SO_RCVTIMEO), and a non-blocking socket
// reports EINPROGRESS/EAGAIN instead (the C API runs the same steps and
// waits on a futex).
func Example() {
	cable := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x00\x02"), 0)
	defer cable.Close()
	mask := netip.MustParseAddr("255.255.255.0")
	peer, _ := gonetif.New(stack.Options{})
	defer peer.Close()
	peer.AddInterface(netif.Config{Key: "peer", Flags: netif.FlagAutoUp,
		IPInfo: netif.IPInfo{IP: netip.MustParseAddr("10.0.0.2"), Netmask: mask}}, cable.B)
	device, _ := gonetif.New(stack.Options{})
	defer device.Close()
	device.AddInterface(netif.Config{Key: "dev", Flags: netif.FlagAutoUp,
		IPInfo: netif.IPInfo{IP: netip.MustParseAddr("10.0.0.1"), Netmask: mask}}, cable.A)
	ln, _ := peer.Listen("tcp4", ":7")
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("hello"))
			c.Close()
		}
	}()

	so, err := socket.New(device.Gvisor(), unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer so.Close()
	server := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), Port: 7}
	fmt.Println("connect:", so.Connect(server))
	fiveSeconds := make([]byte, 16) // struct timeval{5, 0}
	fiveSeconds[0] = 5
	so.SetOption(unix.SOL_SOCKET, unix.SO_RCVTIMEO, fiveSeconds)
	buf := make([]byte, 16)
	for {
		res, err := so.Recv(buf, socket.RecvFlags{})
		if err != nil || res.EOF {
			break
		}
		fmt.Printf("recv: %q\n", buf[:res.N])
	}

	refused, _ := socket.New(device.Gvisor(), unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	defer refused.Close()
	fmt.Println("non-blocking:", refused.Connect(tcpip.FullAddress{Addr: server.Addr, Port: 8})) // nobody listens on 8
	refused.Wait(socket.EventOut, time.Now().Add(5*time.Second))
	fmt.Println("port 8:", refused.Connect(tcpip.FullAddress{Addr: server.Addr, Port: 8}))
	// Output:
	// connect: <nil>
	// recv: "hello"
	// non-blocking: operation now in progress
	// port 8: connection refused
}
