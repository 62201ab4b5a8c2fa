package socket_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// A stream socket gets a new gVisor endpoint on connect(AF_UNSPEC) and on
// connecting again after a failure, while other goroutines send, receive
// and poll on it without the socket's lock. Under -race this failed when
// the endpoint was a plain field.
func TestEndpointRenewWhileSendingAndReceiving(t *testing.T) {
	n := testnet.New(t)
	ln := blockingSocket(t, n, true, unix.SOCK_STREAM)
	if err := ln.Bind(addr(ipB, 7140)); err != nil {
		t.Fatal(err)
	}
	if err := ln.Listen(8); err != nil {
		t.Fatal(err)
	}
	cli := blockingSocket(t, n, false, unix.SOCK_STREAM)

	var stop atomic.Bool
	var ops atomic.Int64
	var wg sync.WaitGroup
	worker := func(step func()) {
		defer wg.Done()
		for i := 0; i < 1_000_000 && !stop.Load(); i++ {
			step()
			ops.Add(1)
		}
	}
	wg.Add(3)
	go worker(func() { cli.Send([]byte("ping"), nil, socket.SendFlags{DontWait: true, NoSignal: true}) })
	go worker(func() { cli.Recv(make([]byte, 16), socket.RecvFlags{DontWait: true}) })
	go worker(func() {
		cli.Poll(uint32(socket.EventIn | socket.EventOut))
		cli.Option(unix.SOL_SOCKET, unix.SO_SNDBUF)
	})

	const rounds = 40
	deadline := time.Now().Add(10 * time.Second)
	done := 0
	for ; done < rounds && time.Now().Before(deadline); done++ {
		if err := cli.Connect(addr(ipB, 7140)); err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("round %d: connect: %v", done, err)
		}
		acc, _, err := ln.Accept()
		if err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("round %d: accept: %v", done, err)
		}
		// Disconnect before the peer closes: a peer closing with unread
		// data resets the connection, and a reset one is not dropped.
		err = cli.Disconnect()
		acc.Release()
		if err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("round %d: connect(AF_UNSPEC): %v", done, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if done < rounds/4 {
		t.Fatalf("only %d of %d connect/disconnect rounds in the time", done, rounds)
	}
	if ops.Load() == 0 {
		t.Fatal("the senders and receivers never ran")
	}
}
