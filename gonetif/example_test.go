package gonetif_test

import (
	"context"
	"fmt"
	"io"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

// Two simulated devices joined by an in-memory cable talk TCP.
func Example() {
	cable := pair.New(tcpip.LinkAddress("\x02\x12\x34\x56\x78\x01"), tcpip.LinkAddress("\x02\x12\x34\x56\x78\x02"), 0)
	defer cable.Close()
	mask := netip.MustParseAddr("255.255.255.0")

	server, _ := gonetif.New(stack.Options{})
	defer server.Close()
	server.AddInterface(netif.Config{Key: "srv", Flags: netif.FlagAutoUp,
		IPInfo: netif.IPInfo{IP: netip.MustParseAddr("192.168.5.1"), Netmask: mask}}, cable.A)

	device, _ := gonetif.New(stack.Options{})
	defer device.Close()
	device.AddInterface(netif.Config{Key: "TAP", Flags: netif.FlagAutoUp,
		IPInfo: netif.IPInfo{IP: netip.MustParseAddr("192.168.5.100"), Netmask: mask}}, cable.B)

	ln, _ := server.ListenTCP(netip.MustParseAddrPort("0.0.0.0:3333"))
	defer ln.Close()
	go func() {
		c, _ := ln.Accept()
		io.Copy(c, c)
		c.Close()
	}()

	c, err := device.DialTCP(context.Background(), netip.MustParseAddrPort("192.168.5.1:3333"))
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Write([]byte("Message from ESP32 "))
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	fmt.Printf("%s\n", buf[:n])
	c.Close()
	// Output: Message from ESP32
}
