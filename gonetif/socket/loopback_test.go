package socket_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// Once a stack has talked to its own address (gVisor then keeps a
// temporary copy of it on the loopback NIC), IP_MULTICAST_IF by that
// address must still pick the real interface: with IP_MULTICAST_LOOP off
// nothing comes back, as on Linux.
func TestMulticastInterfaceAfterTalkingToSelf(t *testing.T) {
	n := testnet.New(t)
	ln, err := n.A.ListenTCP(netip.AddrPortFrom(testnet.AddrA, 7100))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{})
	defer close(accepted)
	go func() {
		if c, err := ln.Accept(); err == nil {
			<-accepted
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	self, err := n.A.DialTCP(ctx, netip.AddrPortFrom(testnet.AddrA, 7100))
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	if _, err := self.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	addrA := tcpip.AddrFrom4(testnet.AddrA.As4())
	if nic := socket.LocalNIC(n.A.Gvisor(), ipv4.ProtocolNumber, addrA); nic != n.NetifA.NICID() {
		t.Fatalf("LocalNIC(%v) = %d, want the interface's %d", addrA, nic, n.NetifA.NICID())
	}

	for round := 0; round < 20; round++ { // gVisor's NIC lookup walks a map: try its orders
		so, err := socket.New(n.A.Gvisor(), unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		so.SetOptionInt(unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if err := so.Bind(tcpip.FullAddress{Port: 7788}); err != nil {
			t.Fatal(err)
		}
		a := testnet.AddrA.As4()
		if err := so.SetOption(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, append([]byte{239, 1, 2, 4}, a[:]...)); err != nil {
			t.Fatal(err)
		}
		if err := so.SetOption(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, a[:]); err != nil {
			t.Fatal(err)
		}
		if err := so.SetOptionInt(unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0); err != nil {
			t.Fatal(err)
		}
		grp := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{239, 1, 2, 4}), Port: 7788}
		if _, err := so.Send([]byte("mc"), &grp, socket.SendFlags{}); err != nil {
			t.Fatal(err)
		}
		so.Wait(socket.EventIn, time.Now().Add(20*time.Millisecond))
		buf := make([]byte, 8)
		if r, err := so.Recv(buf, socket.RecvFlags{}); err != unix.EAGAIN {
			t.Fatalf("round %d: multicast came back with IP_MULTICAST_LOOP off: %q, %v", round, buf[:r.N], err)
		}
		so.Close()
	}
}
