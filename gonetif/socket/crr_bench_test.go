package socket_test

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// BenchmarkTCPConnectEchoClose is the benchmark's crr row at the Go
// level: through descriptor tables (as the C API does), A connects to B,
// sends 1 byte, B echoes it and closes, A reads the byte and EOF and
// closes. Both stacks are in this process over the in-memory cable, so
// allocs/op and B/op count both ends of a connection.
//
//	go test ./gonetif/socket -run '^$' -bench TCPConnectEchoClose -benchmem
func BenchmarkTCPConnectEchoClose(b *testing.B) {
	n := testnet.New(b)
	ta, tb := socket.NewTable(), socket.NewTable()
	ln, err := socket.New(n.B.Gvisor(), unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Release()
	if err := ln.Bind(addr(ipB, 6200)); err != nil {
		b.Fatal(err)
	}
	if err := ln.Listen(128); err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- echoAndClose(ln, tb) }()
	one := []byte{7}
	for b.Loop() {
		if err := connectEchoClose(n, ta, one); err != nil {
			b.Fatal(err)
		}
	}
	ln.Release() // ends the server's Accept
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		b.Fatal("the echo server did not stop within 5 s")
	}
}

// connectEchoClose is one crr connection from A, its descriptor taken
// from ta and given back.
func connectEchoClose(n *testnet.Net, ta *socket.Table, msg []byte) error {
	so, err := socket.New(n.A.Gvisor(), unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	fd, err := ta.Add(so)
	if err != nil {
		so.Release()
		return err
	}
	defer ta.Close(fd)
	if err := so.Connect(addr(ipB, 6200)); err != nil {
		return err
	}
	if k, err := so.Send(msg, nil, socket.SendFlags{}); err != nil || k != len(msg) {
		return errOr(err, "short send")
	}
	r := make([]byte, 2)
	if res, err := so.Recv(r, socket.RecvFlags{}); err != nil || res.N != 1 || r[0] != msg[0] {
		return errOr(err, "echo missing or wrong")
	}
	if res, err := so.Recv(r, socket.RecvFlags{}); err != nil || res.N != 0 || !res.EOF {
		return errOr(err, "no EOF after the echo")
	}
	return nil
}

// echoAndClose serves ln until it is released: every connection gets its
// byte back and is closed.
func echoAndClose(ln *socket.Socket, tb *socket.Table) error {
	b := make([]byte, 1)
	for {
		c, _, err := ln.Accept()
		if err != nil {
			return err
		}
		fd, err := tb.Add(c)
		if err != nil {
			c.Release()
			return err
		}
		if res, err := c.Recv(b, socket.RecvFlags{}); err == nil && res.N == 1 {
			c.Send(b, nil, socket.SendFlags{})
		}
		tb.Close(fd)
	}
}

type benchError string

func (e benchError) Error() string { return string(e) }

func errOr(err error, what string) error {
	if err != nil {
		return err
	}
	return benchError(what)
}
