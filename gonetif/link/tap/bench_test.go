package tap_test

import (
	"fmt"
	"io"
	"testing"
	"time"
)

// BenchmarkBulk measures bulk TCP between a gVisor stack on the TAP and the
// kernel (socat) in a namespace; MB/s is the figure to read. send: stack to
// kernel; recv: kernel to stack.
//
//	go test ./gonetif/link/tap -run '^$' -bench Bulk -benchtime 3s
func BenchmarkBulk(b *testing.B) {
	for _, plain := range []bool{false, true} {
		b.Run(modeName(plain), func(b *testing.B) {
			b.Run("send", func(b *testing.B) { benchSend(b, plain) })
			b.Run("recv", func(b *testing.B) { benchRecv(b, plain) })
		})
	}
}

const benchChunk = 1 << 20

func benchSend(b *testing.B, plain bool) {
	r := newRig(b, plain)
	r.ns.Start(b, "socat", "-u", "-b", "262144", "TCP4-LISTEN:7001,reuseaddr", "OPEN:/dev/null")
	c := dial(b, r.s, 7001)
	defer c.Close()
	buf := make([]byte, benchChunk)
	b.SetBytes(benchChunk)
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Minute))
	for b.Loop() {
		if _, err := c.Write(buf); err != nil {
			b.Fatalf("write: %v", err)
		}
	}
	b.StopTimer()
	reportGSO(b, r)
}

func benchRecv(b *testing.B, plain bool) {
	r := newRig(b, plain)
	l := listen(b, r.s, 7002)
	r.ns.Start(b, "socat", "-u", "-b", "262144", "OPEN:/dev/zero", fmt.Sprintf("TCP4:%s:7002", stackIP))
	c := accept(b, l, 15*time.Second)
	defer c.Close()
	buf := make([]byte, benchChunk)
	b.SetBytes(benchChunk)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	for b.Loop() {
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatalf("read: %v", err)
		}
	}
	b.StopTimer()
	reportGSO(b, r)
}

// reportGSO shows the average frame size, which tells whether offload was
// really in use.
func reportGSO(b *testing.B, r *rig) {
	st := r.ep.Stats()
	if st.RxFrames > 0 {
		b.ReportMetric(float64(st.RxBytes)/float64(st.RxFrames), "rxB/frame")
	}
	if st.TxFrames > 0 {
		b.ReportMetric(float64(st.TxBytes)/float64(st.TxFrames), "txB/frame")
	}
}
