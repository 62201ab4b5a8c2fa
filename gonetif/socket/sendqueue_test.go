package socket_test

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

func ioctlInt(t *testing.T, so *socket.Socket, req uint64) (int32, error) {
	t.Helper()
	v := int32(-1)
	err := so.Ioctl(req, &v)
	return v, err
}

// SIOCOUTQ as Linux answers it: a stream's bytes written and not yet
// acknowledged (what a peer that does not read leaves unacknowledged,
// then none once it has read all), a listener EINVAL, a UDP socket what
// MSG_MORE holds back, an ICMP socket ENOTTY (FIONREAD too).
func TestSendQueuedBytes(t *testing.T) {
	n := testnet.New(t)
	cli, srv := tcpPair(t, n, 7150)
	if v, err := ioctlInt(t, cli, socket.IoctlSIOCOUTQ); err != nil || v != 0 {
		t.Fatalf("SIOCOUTQ of an idle connection: %d %v, want 0", v, err)
	}
	// Send until the peer's window and this send buffer are both full:
	// EAGAIN five times in a row, 20 ms apart.
	chunk := make([]byte, 64<<10)
	sent := 0
	for i, refused := 0, 0; i < 2000 && refused < 5; i++ {
		k, err := cli.Send(chunk, nil, socket.SendFlags{DontWait: true})
		sent += k
		switch {
		case errors.Is(err, unix.EAGAIN):
			refused++
			time.Sleep(20 * time.Millisecond)
		case err != nil:
			t.Fatalf("send: %v", err)
		default:
			refused = 0
		}
	}
	// Once the peer has acknowledged what its window took, the two
	// queues hold every byte sent: unacknowledged here, unread there.
	var outq, inq int32
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		o, err := ioctlInt(t, cli, socket.IoctlSIOCOUTQ)
		if err != nil {
			t.Fatalf("SIOCOUTQ: %v", err)
		}
		i, err := ioctlInt(t, srv, socket.IoctlFIONREAD)
		if err != nil {
			t.Fatalf("FIONREAD: %v", err)
		}
		outq, inq = o, i
		if int(o)+int(i) == sent && o > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if outq <= 0 || int(outq)+int(inq) != sent {
		t.Fatalf("sent %d to a peer that does not read: SIOCOUTQ %d + peer's FIONREAD %d, want the sum and SIOCOUTQ > 0",
			sent, outq, inq)
	}
	buf := make([]byte, 64<<10)
	for got := 0; got < sent; {
		r, err := srv.Recv(buf, socket.RecvFlags{})
		if err != nil {
			t.Fatalf("peer read %d of %d: %v", got, sent, err)
		}
		got += r.N
	}
	deadline = time.Now().Add(5 * time.Second)
	for outq != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		outq, _ = ioctlInt(t, cli, socket.IoctlSIOCOUTQ)
	}
	if outq != 0 {
		t.Fatalf("SIOCOUTQ %d after the peer read everything, want 0", outq)
	}

	ln := blockingSocket(t, n, true, unix.SOCK_STREAM)
	ln.Bind(addr(ipB, 7151))
	ln.Listen(1)
	if _, err := ioctlInt(t, ln, socket.IoctlSIOCOUTQ); !errors.Is(err, unix.EINVAL) {
		t.Errorf("SIOCOUTQ of a listener: %v, want EINVAL", err)
	}
	if err := cli.Ioctl(socket.IoctlSIOCOUTQ, nil); !errors.Is(err, unix.EFAULT) {
		t.Errorf("SIOCOUTQ with a NULL argument: %v, want EFAULT", err)
	}

	u := blockingSocket(t, n, false, unix.SOCK_DGRAM)
	to := addr(ipB, 7152)
	if v, err := ioctlInt(t, u, socket.IoctlSIOCOUTQ); err != nil || v != 0 {
		t.Errorf("SIOCOUTQ of a fresh UDP socket: %d %v, want 0", v, err)
	}
	if _, err := u.Send([]byte("held"), &to, socket.SendFlags{More: true}); err != nil {
		t.Fatal(err)
	}
	if v, err := ioctlInt(t, u, socket.IoctlSIOCOUTQ); err != nil || v != 4 {
		t.Errorf("SIOCOUTQ with 4 bytes held by MSG_MORE: %d %v, want 4", v, err)
	}
	if _, err := u.Send([]byte("!"), &to, socket.SendFlags{}); err != nil {
		t.Fatal(err)
	}
	if v, err := ioctlInt(t, u, socket.IoctlSIOCOUTQ); err != nil || v != 0 {
		t.Errorf("SIOCOUTQ after the datagram left: %d %v, want 0", v, err)
	}

	ping, err := socket.New(n.A.Gvisor(), unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	defer ping.Release()
	for _, req := range []uint64{socket.IoctlSIOCOUTQ, socket.IoctlFIONREAD} {
		if _, err := ioctlInt(t, ping, req); !errors.Is(err, unix.ENOTTY) {
			t.Errorf("ioctl %#x of an ICMP socket: %v, want ENOTTY (Linux's ping sockets)", req, err)
		}
	}
}
