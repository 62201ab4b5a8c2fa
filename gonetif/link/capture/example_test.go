package capture_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/capture"
	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

// A capture layer between an interface and its link records every frame
// in pcap format (here into memory; capture.New writes a file).
func ExampleNewWriter() {
	cable := pair.New(tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01"), tcpip.LinkAddress("\x02\x00\x00\x00\x00\x02"), 0)
	defer cable.Close()
	mask := netip.MustParseAddr("255.255.255.0")

	var pcap bytes.Buffer
	captured, _ := capture.NewWriter(cable.A, &pcap, 0)
	device, _ := gonetif.New(stack.Options{})
	device.AddInterface(netif.Config{Key: "dev", Flags: netif.FlagAutoUp,
		IPInfo: netif.IPInfo{IP: netip.MustParseAddr("10.0.0.1"), Netmask: mask}}, captured)
	peer, _ := gonetif.New(stack.Options{})
	defer peer.Close()
	peer.AddInterface(netif.Config{Key: "peer", Flags: netif.FlagAutoUp,
		IPInfo: netif.IPInfo{IP: netip.MustParseAddr("10.0.0.2"), Netmask: mask}}, cable.B)

	in, _ := peer.ListenPacket("udp4", "10.0.0.2:9")
	c, _ := device.Dial("udp4", "10.0.0.2:9")
	c.Write([]byte("captured datagram"))
	buf := make([]byte, 64)
	n, _, _ := in.ReadFrom(buf)
	fmt.Printf("peer got %q\n", buf[:n])
	c.Close()
	in.Close()
	device.Close() // closing the interface's link stops and flushes the capture

	data := pcap.Bytes()
	fmt.Println("link type:", binary.LittleEndian.Uint32(data[20:24])) // 1 = Ethernet
	frames, found := 0, false
	for off := 24; off+16 <= len(data); {
		size := int(binary.LittleEndian.Uint32(data[off+8:]))
		frame := data[off+16 : off+16+size]
		found = found || bytes.Contains(frame, []byte("captured datagram"))
		frames++
		off += 16 + size
	}
	fmt.Println("datagram in the capture:", found, "(frames >= 3:", frames >= 3, ")")
	// Output:
	// peer got "captured datagram"
	// link type: 1
	// datagram in the capture: true (frames >= 3: true )
}
