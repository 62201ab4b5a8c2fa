package usernet_test

import (
	"fmt"
	"net/netip"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/usernet"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

// A device on a user-mode network: DHCP gives it 10.0.2.15, and host port
// 8080 reaches its port 80. No TAP, no privileges.
func Example() {
	fwds, err := usernet.ParseHostForwards("tcp:127.0.0.1:0-:80")
	if err != nil {
		panic(err)
	}
	un, err := usernet.New(usernet.Options{HostForwards: fwds})
	if err != nil {
		panic(err)
	}
	defer un.Close()
	s, err := gonetif.New(stack.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	dev, err := s.AddInterface(netif.Config{Key: "USER", Flags: netif.FlagAutoUp,
		IPInfo: netif.IPInfo{IP: netip.MustParseAddr("10.0.2.15"), Netmask: netip.MustParseAddr("255.255.255.0"),
			Gateway: netip.MustParseAddr("10.0.2.2")}}, un.Link())
	if err != nil {
		panic(err)
	}
	// s.DialTCP to 10.0.2.2:PORT now reaches the host's 127.0.0.1:PORT.
	fmt.Println(dev.IPInfo().IP, un.HostAddr(0).Addr())
	// Output: 10.0.2.15 127.0.0.1
}
