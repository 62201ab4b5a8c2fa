package tap_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/internal/netnstest"
	"gonetif.dev/gonetif/link/tap"
)

// etherExperimental is IEEE's local experimental EtherType: nothing on the
// host answers or sends it, so the frame seen is ours.
const etherExperimental = 0x88b5

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// TestWriteFrame: a raw frame written with WriteFrame reaches the host
// side of the TAP byte for byte, in both modes; bad sizes and a closed
// endpoint are errors.
func TestWriteFrame(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(modeName(plain), func(t *testing.T) {
			r := newRig(t, plain)
			var sock int
			if err := r.ns.Do(func() error {
				var err error
				sock, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(etherExperimental)))
				if err != nil {
					return err
				}
				ifi, err := net.InterfaceByName(tapName)
				if err != nil {
					return err
				}
				return unix.Bind(sock, &unix.SockaddrLinklayer{Protocol: htons(etherExperimental), Ifindex: ifi.Index})
			}); err != nil {
				t.Fatalf("packet socket: %v", err)
			}
			defer unix.Close(sock)
			tv := unix.Timeval{Sec: 5}
			if err := unix.SetsockoptTimeval(sock, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
				t.Fatal(err)
			}
			frame := make([]byte, 60)
			copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			copy(frame[6:], r.ep.LinkAddress())
			frame[12], frame[13] = etherExperimental>>8, etherExperimental&0xff
			copy(frame[14:], "gonetif raw frame")
			if err := r.ep.WriteFrame(frame); err != nil {
				t.Fatalf("WriteFrame: %v", err)
			}
			got := make([]byte, 2048)
			n, _, err := unix.Recvfrom(sock, got, 0)
			if err != nil {
				t.Fatalf("no frame on the host side: %v", err)
			}
			if !bytes.Equal(got[:n], frame) {
				t.Fatalf("host saw\n% x\nwant\n% x", got[:n], frame)
			}
			if err := r.ep.WriteFrame(frame[:13]); !errors.Is(err, tap.ErrFrameSize) {
				t.Errorf("13-byte frame: %v, want ErrFrameSize", err)
			}
			if err := r.ep.WriteFrame(make([]byte, 70000)); !errors.Is(err, tap.ErrFrameSize) {
				t.Errorf("70000-byte frame: %v, want ErrFrameSize", err)
			}
			r.close(t)
			if err := r.ep.WriteFrame(frame); !errors.Is(err, unix.EBADF) {
				t.Errorf("after close: %v, want EBADF", err)
			}
		})
	}
}

// TestNoCarrierWarning: a TAP whose host side is down is reported at open
// and when writes start failing, and its coming back once.
func TestNoCarrierWarning(t *testing.T) {
	ns := netnstest.New(t)
	ns.AddTap(t, tapName, hostCIDR, -1)
	ns.Exec(t, "ip", "link", "set", tapName, "down")
	var mu sync.Mutex
	var lines []string
	warned := func(sub string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, l := range lines {
			if strings.Contains(l, sub) {
				n++
			}
		}
		return n
	}
	ep, err := tap.Open(tap.Options{Name: tapName, NetNS: ns.Path, Warnf: func(f string, a ...any) {
		mu.Lock()
		lines = append(lines, fmt.Sprintf(f, a...))
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	if warned("no carrier") != 1 {
		t.Fatalf("host side down at open: warnings %q", lines)
	}
	frame := make([]byte, 60)
	frame[12], frame[13] = etherExperimental>>8, etherExperimental&0xff
	for i := 0; i < 3; i++ {
		if err := ep.WriteFrame(frame); !errors.Is(err, unix.EIO) {
			t.Fatalf("write with the host side down: %v, want EIO", err)
		}
	}
	if warned("no carrier") != 1 {
		t.Fatalf("warned more than once: %q", lines)
	}
	ns.Exec(t, "ip", "link", "set", tapName, "up")
	if err := ep.WriteFrame(frame); err != nil {
		t.Fatalf("write with the host side up: %v", err)
	}
	ns.Exec(t, "ip", "link", "set", tapName, "down")
	_ = ep.WriteFrame(frame)
	if warned("carrier back") != 1 || warned("went down") != 1 {
		t.Fatalf("warnings %q", lines)
	}
}
