package socket_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// FuzzSetOption: option values come from C as raw bytes of any length;
// no level, name or value may panic, and neither may reading the option
// back (set-only options such as memberships answer an error there).
func FuzzSetOption(f *testing.F) {
	for _, c := range []struct {
		typ, level, name int
		val              []byte
	}{
		{unix.SOCK_STREAM, unix.SOL_SOCKET, unix.SO_LINGER, []byte{1, 0, 0, 0, 5, 0, 0, 0}},
		{unix.SOCK_STREAM, unix.SOL_SOCKET, unix.SO_RCVBUF, []byte{0, 0, 1, 0}},
		{unix.SOCK_STREAM, unix.IPPROTO_TCP, unix.TCP_NODELAY, []byte{1}},
		{unix.SOCK_STREAM, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, []byte{0xff, 0xff, 0xff, 0xff}},
		{unix.SOCK_DGRAM, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, []byte{224, 0, 0, 1, 0, 0, 0, 0}},
		{unix.SOCK_DGRAM, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, []byte{10, 7, 0, 1}},
		{unix.SOCK_DGRAM, unix.IPPROTO_IP, unix.IP_TTL, []byte{}},
		{unix.SOCK_DGRAM, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, make([]byte, 20)},
		{unix.SOCK_DGRAM, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte{1, 0, 0, 0}},
	} {
		f.Add(c.typ == unix.SOCK_STREAM, c.level, c.name, c.val)
	}
	n := testnet.New(f)
	f.Fuzz(func(t *testing.T, stream bool, level, name int, val []byte) {
		typ := unix.SOCK_DGRAM
		if stream {
			typ = unix.SOCK_STREAM
		}
		so, err := socket.New(n.A.Gvisor(), unix.AF_INET, typ, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer so.Close()
		_ = so.SetOption(level, name, val)
		_, _ = so.Option(level, name)
	})
}
