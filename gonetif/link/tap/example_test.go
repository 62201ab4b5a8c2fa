package tap_test

import (
	"fmt"
	"net/netip"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/tap"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

// A device on a real TAP: after `sudo scripts/make_tap_netif` (tap0, host
// side 192.168.5.1/24, owned by you) this runs without root and the host
// can ping 192.168.5.100. It has no Output line because it needs that TAP:
// go test compiles it, and the TAP tests in this package (in throwaway
// namespaces) run the same calls.
func ExampleOpen() {
	ep, err := tap.Open(tap.Options{Name: "tap0"}) // offloads on; Plain: true for the fallback
	if err != nil {
		fmt.Println(err) // e.g. no such device: make it first
		return
	}
	st, err := gonetif.New(stack.Options{})
	if err != nil {
		ep.Close()
		fmt.Println(err)
		return
	}
	defer st.Close() // closes the interface and with it the TAP
	_, err = st.AddInterface(netif.Config{Key: "TAP", Flags: netif.FlagAutoUp,
		IPInfo: netif.IPInfo{IP: netip.MustParseAddr("192.168.5.100"), Netmask: netip.MustParseAddr("255.255.255.0"),
			Gateway: netip.MustParseAddr("192.168.5.1")}}, ep)
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := st.Dial("tcp", "192.168.5.1:3333") // e.g. socat TCP-LISTEN:3333,fork EXEC:cat
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.Write([]byte("Message from ESP32 "))
}
