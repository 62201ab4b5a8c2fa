package tap_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gonetif.dev/gonetif/internal/netnstest"
	"gonetif.dev/gonetif/link/tap"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// TestUSOMergedBatch writes one batch of datagrams in runs the merger must
// cut differently (a flow of equal sizes, a size change, another port, a
// run longer than 64 datagrams) and checks with kernel sockets that every
// datagram arrives once, whole, in order, with its own content and a
// valid checksum (the kernel drops bad ones), and that runs were merged.
func TestUSOMergedBatch(t *testing.T) {
	ns := netnstest.New(t)
	ns.AddTap(t, tapName, hostCIDR, -1)
	ep, err := tap.Open(tap.Options{Name: tapName, NetNS: ns.Path, USO: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { ep.Close(); ep.Wait() }()

	var hostMAC tcpip.LinkAddress
	socks := map[uint16]int{}
	err = ns.Do(func() error {
		ifc, err := net.InterfaceByName(tapName)
		if err != nil {
			return err
		}
		hostMAC = tcpip.LinkAddress(ifc.HardwareAddr)
		for _, port := range []uint16{9100, 9101} {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20)
			_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 2})
			if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(port), Addr: hostAddr.As4()}); err != nil {
				return err
			}
			socks[port] = fd
		}
		return nil
	})
	for _, fd := range socks {
		defer unix.Close(fd)
	}
	if err != nil {
		t.Fatal(err)
	}
	// The host drops frames until carrier-on is processed.
	netnstest.WaitFor(5*time.Second, 50*time.Millisecond, func() bool {
		o, _ := ns.Run("cat", "/sys/class/net/"+tapName+"/carrier")
		return o == "1\n"
	})
	time.Sleep(200 * time.Millisecond)

	type dgram struct {
		port uint16
		data []byte
	}
	var sent []dgram
	add := func(port uint16, size, count int) {
		for i := 0; i < count; i++ {
			b := make([]byte, size)
			binary.BigEndian.PutUint32(b, uint32(len(sent)))
			for j := 4; j < size; j++ {
				b[j] = byte(len(sent)*7 + j)
			}
			sent = append(sent, dgram{port, b})
		}
	}
	add(9100, 64, 40)  // one merged frame
	add(9100, 100, 3)  // size changes: a new one
	add(9101, 100, 1)  // another port: alone
	add(9100, 64, 70)  // 64 merged, then 6
	add(9100, 1200, 2) // 2 of 1200 bytes
	var pkts stack.PacketBufferList
	for i, d := range sent {
		pkts.PushBack(tap.UDPTestPacket(hostMAC, stackAddr, hostAddr, 40000, d.port, uint16(i), d.data))
	}
	n, werr := ep.WritePackets(pkts)
	pkts.Reset()
	if werr != nil || n != len(sent) {
		t.Fatalf("WritePackets = %d, %v; want %d", n, werr, len(sent))
	}

	want := map[uint16][][]byte{}
	for _, d := range sent {
		want[d.port] = append(want[d.port], d.data)
	}
	for port, list := range want {
		buf := make([]byte, 4096)
		for i, w := range list {
			k, _, err := unix.Recvfrom(socks[port], buf, 0)
			if err != nil {
				t.Fatalf("port %d: datagram %d of %d: %v", port, i, len(list), err)
			}
			if !bytes.Equal(buf[:k], w) {
				t.Fatalf("port %d: datagram %d: got %d bytes %x..., want %d bytes %x...", port, i, k,
					buf[:min(k, 8)], len(w), w[:8])
			}
		}
		if k, _, err := unix.Recvfrom(socks[port], buf, unix.MSG_DONTWAIT); err != unix.EAGAIN {
			t.Fatalf("port %d: an extra datagram (%d bytes, %v)", port, k, err)
		}
	}
	st := ep.Stats()
	// Merged: 40, 3, 64, 6, 2; alone: the one to 9101.
	if st.TxUSOSegs != 115 || st.TxGSO != 5 || st.TxFrames != 6 || st.TxDropped != 0 {
		t.Fatalf("stats %+v: want 115 datagrams in 5 merged frames, 6 frames, none dropped", st)
	}
}
