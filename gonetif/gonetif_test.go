package gonetif_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"gonetif.dev/gonetif/internal/hostile"
	"gonetif.dev/gonetif/internal/testnet"
)

func TestTCPEchoOverMemoryLink(t *testing.T) {
	n := testnet.New(t)
	ln, err := n.B.ListenTCP(netip.AddrPortFrom(netip.IPv4Unspecified(), 3333))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go hostile.ServeEcho(ln)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := n.A.DialTCP(ctx, netip.AddrPortFrom(testnet.AddrB, 3333))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))

	// 4 MiB both ways, checked by hash, exercises segmentation and windows.
	payload := make([]byte, 4<<20)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	go func() { c.Write(payload); c.CloseWrite() }()
	got := sha256.New()
	nr, err := io.Copy(got, c)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(payload)
	if nr != int64(len(payload)) || !bytes.Equal(got.Sum(nil), want[:]) {
		t.Fatalf("echo returned %d bytes, hash mismatch=%v", nr, !bytes.Equal(got.Sum(nil), want[:]))
	}
}

func TestUDPBothWays(t *testing.T) {
	n := testnet.New(t)
	srv, err := n.B.ListenUDP(netip.AddrPortFrom(testnet.AddrB, 4444))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cli, err := n.A.DialUDP(netip.AddrPortFrom(testnet.AddrB, 4444))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	srv.SetDeadline(time.Now().Add(5 * time.Second))
	cli.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := cli.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	nr, from, err := srv.ReadFrom(buf)
	if err != nil || string(buf[:nr]) != "ping" {
		t.Fatalf("server got %q, %v", buf[:nr], err)
	}
	if _, err := srv.WriteTo([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	nr, err = cli.Read(buf)
	if err != nil || string(buf[:nr]) != "pong" {
		t.Fatalf("client got %q, %v", buf[:nr], err)
	}
}

func TestDialRefused(t *testing.T) {
	n := testnet.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := n.A.DialTCP(ctx, netip.AddrPortFrom(testnet.AddrB, 9)); err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
}

// TestNoGoroutineLeak builds and tears down networks and checks that the
// goroutine count comes back.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		t.Run("net", func(t *testing.T) {
			n := testnet.New(t)
			ln, err := n.B.ListenTCP(netip.AddrPortFrom(testnet.AddrB, 80))
			if err != nil {
				t.Fatal(err)
			}
			ln.Close()
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
