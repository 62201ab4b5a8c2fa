package socket_test

import (
	"errors"
	"math"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// F_SETOWN and F_GETOWN as Linux answers them, and O_ASYNC's SIGIO to the
// owner when data arrives (none without O_ASYNC, none after F_SETOWN 0).
func TestOwnerGetsSIGIO(t *testing.T) {
	n := testnet.New(t)
	cli, srv := tcpPair(t, n, 7160)
	sigio := make(chan os.Signal, 16)
	signal.Notify(sigio, syscall.SIGIO)
	defer signal.Stop(sigio)
	drain := func() int {
		k := 0
		for {
			select {
			case <-sigio:
				k++
			case <-time.After(100 * time.Millisecond):
				return k
			}
		}
	}

	if v, err := cli.Fcntl(unix.F_GETOWN, 0); err != nil || v != 0 {
		t.Fatalf("F_GETOWN of a fresh socket: %d %v, want 0", v, err)
	}
	pid := os.Getpid()
	if _, err := cli.Fcntl(unix.F_SETOWN, pid); err != nil {
		t.Fatalf("F_SETOWN(self): %v", err)
	}
	if v, err := cli.Fcntl(unix.F_GETOWN, 0); err != nil || v != pid {
		t.Fatalf("F_GETOWN: %d %v, want %d", v, err, pid)
	}
	drain()
	srv.Send([]byte("a"), nil, socket.SendFlags{})
	wait(t, cli, uint64(socket.EventIn))
	if k := drain(); k != 0 {
		t.Errorf("%d SIGIO without O_ASYNC, want none", k)
	}
	if _, err := cli.Fcntl(unix.F_SETFL, unix.O_ASYNC); err != nil {
		t.Fatal(err)
	}
	srv.Send([]byte("b"), nil, socket.SendFlags{})
	select {
	case <-sigio:
	case <-time.After(3 * time.Second):
		t.Fatal("no SIGIO within 3 s of data arriving on an O_ASYNC socket owned by this process")
	}
	if _, err := cli.Fcntl(unix.F_SETOWN, 0); err != nil {
		t.Fatal(err)
	}
	drain()
	srv.Send([]byte("c"), nil, socket.SendFlags{})
	time.Sleep(50 * time.Millisecond)
	if k := drain(); k != 0 {
		t.Errorf("%d SIGIO after F_SETOWN 0, want none", k)
	}

	pgrp := unix.Getpgrp()
	if _, err := cli.Fcntl(unix.F_SETOWN, -pgrp); err != nil {
		t.Errorf("F_SETOWN(-pgrp): %v", err)
	} else if v, _ := cli.Fcntl(unix.F_GETOWN, 0); v != -pgrp {
		t.Errorf("F_GETOWN after F_SETOWN(-%d): %d", pgrp, v)
	}
	if _, err := cli.Fcntl(unix.F_SETOWN, 0x3ffffff0); !errors.Is(err, unix.ESRCH) {
		t.Errorf("F_SETOWN of no process: %v, want ESRCH", err)
	}
	if _, err := cli.Fcntl(unix.F_SETOWN, math.MinInt32); !errors.Is(err, unix.EINVAL) {
		t.Errorf("F_SETOWN(INT_MIN): %v, want EINVAL", err)
	}
	cli.Fcntl(unix.F_SETOWN, 0)
}
