package gonetif_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif"
	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/stack"
)

// twoDevices is the set-up of the examples: two stacks, 192.168.5.1 and
// 192.168.5.100, on an in-memory cable. close tears all of it down.
func twoDevices() (host, device *gonetif.Stack, close func()) {
	cable := pair.New(tcpip.LinkAddress("\x02\x12\x34\x56\x78\x01"), tcpip.LinkAddress("\x02\x12\x34\x56\x78\x02"), 0)
	mask := netip.MustParseAddr("255.255.255.0")
	host, _ = gonetif.New(stack.Options{})
	host.AddInterface(netif.Config{Key: "host", Flags: netif.FlagAutoUp,
		IPInfo: netif.IPInfo{IP: netip.MustParseAddr("192.168.5.1"), Netmask: mask}}, cable.A)
	device, _ = gonetif.New(stack.Options{})
	device.AddInterface(netif.Config{Key: "TAP", Flags: netif.FlagAutoUp,
		IPInfo: netif.IPInfo{IP: netip.MustParseAddr("192.168.5.100"), Netmask: mask}}, cable.B)
	return host, device, func() { device.Close(); host.Close(); cable.Close() }
}

// An http.Client on one stack fetches from an http.Server on another:
// Stack.DialContext is all http.Transport needs.
func ExampleStack_DialContext_http() {
	host, device, closeAll := twoDevices()
	defer closeAll()

	ln, err := host.Listen("tcp", ":80")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s from %s", r.URL.Path[1:], r.Host)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	tr := &http.Transport{DialContext: device.DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	resp, err := client.Get("http://192.168.5.1/device")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status)
	fmt.Println(string(body))
	// Output:
	// 200 OK
	// hello device from 192.168.5.1
}

// Datagrams with net.PacketConn, as with net.ListenPacket.
func ExampleStack_ListenPacket() {
	host, device, closeAll := twoDevices()
	defer closeAll()

	pc, err := host.ListenPacket("udp4", "192.168.5.1:5000")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pc.Close()
	go func() { // echo one datagram
		buf := make([]byte, 1500)
		n, from, err := pc.ReadFrom(buf)
		if err == nil {
			pc.WriteTo(buf[:n], from)
		}
	}()

	c, err := device.Dial("udp", "192.168.5.1:5000")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.Write([]byte("ping over udp"))
	buf := make([]byte, 1500)
	n, _ := c.Read(buf)
	fmt.Printf("%s from %v\n", buf[:n], c.RemoteAddr())
	// Output: ping over udp from 192.168.5.1:5000
}

// Errors are package net's types, so the usual checks work.
func ExampleStack_Dial_errors() {
	host, device, closeAll := twoDevices()
	defer closeAll()
	_ = host

	_, err := device.Dial("tcp", "192.168.5.1:81") // nobody listens there
	var op *net.OpError
	fmt.Println(err != nil, errorsAs(err, &op))

	_, err = device.Dial("sctp", "192.168.5.1:81")
	fmt.Println(err)

	_, err = device.LookupHost(context.Background(), "name.invalid") // no DNS server configured
	var dnsErr *net.DNSError
	fmt.Println(errorsAs(err, &dnsErr))
	// Output:
	// true true
	// dial sctp: unknown network sctp
	// true
}
