package capture_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/link/capture"
)

// lockedBuf is a writer the test can read while the flush timer writes.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

func sendFrames(t *testing.T, ep stack.LinkEndpoint, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		var pkts stack.PacketBufferList
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(bytes.Repeat([]byte{byte(i)}, 60))})
		pkts.PushBack(pkt)
		if _, err := ep.WritePackets(pkts); err != nil {
			t.Fatal(err)
		}
		pkt.DecRef()
	}
}

// TestFlushInterval: frames reach the writer within FlushInterval of being
// recorded, with no further traffic, Flush or close (an app that is killed
// loses at most that window).
func TestFlushInterval(t *testing.T) {
	w := &lockedBuf{}
	ep, err := capture.NewWriter(channel.New(16, 1500, ""), w, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	sendFrames(t, ep, 3)
	start := time.Now()
	want := 24 + 3*(16+60)
	for len(w.Bytes()) < want {
		if time.Since(start) > 10*capture.FlushInterval {
			t.Fatalf("after %v the writer has %d bytes, want %d", time.Since(start), len(w.Bytes()), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("3 frames written %v after they were recorded", time.Since(start).Round(time.Millisecond))
	_, recs := readPcap(t, w.Bytes())
	if len(recs) != 3 || recs[2].data[0] != 2 {
		t.Fatalf("records %d, want 3 in order", len(recs))
	}
}

// TestFlushAll: FlushAll (what C's atexit hook calls) writes every open
// capture's buffer at once; stopped captures are skipped.
func TestFlushAll(t *testing.T) {
	dir := t.TempDir()
	var eps []*capture.Endpoint
	var paths []string
	for i := 0; i < 3; i++ {
		p := filepath.Join(dir, "c"+string(rune('0'+i))+".pcap")
		ep, closer, err := capture.New(channel.New(16, 1500, tcpip.LinkAddress("")), p, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer closer.Close()
		eps = append(eps, ep)
		paths = append(paths, p)
	}
	eps[2].Close() // stopped: must not make FlushAll fail
	for _, ep := range eps[:2] {
		sendFrames(t, ep, 5)
	}
	if err := capture.FlushAll(); err != nil {
		t.Fatalf("FlushAll: %v", err)
	}
	// Read at once: well inside the flush interval, so only FlushAll can
	// have written them.
	for _, p := range paths[:2] {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, recs := readPcap(t, raw); len(recs) != 5 {
			t.Fatalf("%s: %d records after FlushAll, want 5", p, len(recs))
		}
	}
}
