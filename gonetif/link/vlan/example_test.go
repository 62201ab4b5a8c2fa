package vlan_test

import (
	"context"
	"fmt"
	"io"
	"net/netip"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/vlan"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

// Three simulated boards on one switch: two clients talk TCP to the third.
func Example() {
	sw, _ := vlan.NewSwitch(vlan.Options{})
	defer sw.Close()
	board := func(i byte) *gonetif.Stack {
		s, _ := gonetif.New(stack.Options{})
		port, _ := sw.NewPort(vlan.PortOptions{MAC: mac(i)})
		s.AddInterface(netif.Config{Key: fmt.Sprintf("board%d", i), Flags: netif.FlagAutoUp,
			IPInfo: netif.IPInfo{IP: netip.AddrFrom4([4]byte{10, 9, 0, i}), Netmask: netip.MustParseAddr("255.255.255.0")}}, port)
		return s
	}
	server := board(1)
	defer server.Close()
	ln, _ := server.ListenTCP(netip.MustParseAddrPort("0.0.0.0:3333"))
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()

	for _, i := range []byte{2, 3} {
		client := board(i)
		defer client.Close()
		c, err := client.DialTCP(context.Background(), netip.MustParseAddrPort("10.9.0.1:3333"))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Fprintf(c, "hello from board %d", i)
		c.CloseWrite()
		reply, _ := io.ReadAll(c)
		fmt.Println(string(reply))
		c.Close()
	}
	// Output:
	// hello from board 2
	// hello from board 3
}
