package stack_test

import (
	"math/rand/v2"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// jitterLink delays every frame, both ways, by a random time in
// [base, base+jitter), so frames also overtake each other. The loss suite
// uses it where the kernel has no netem (this machine's kernel has none).
type jitterLink struct {
	nested.Endpoint
	base, jitter time.Duration
}

func newJitterLink(lower gvstack.LinkEndpoint, base, jitter time.Duration) *jitterLink {
	j := &jitterLink{base: base, jitter: jitter}
	j.Endpoint.Init(lower, j)
	return j
}

func (j *jitterLink) delay() time.Duration {
	return j.base + time.Duration(rand.Int64N(int64(j.jitter)))
}

func (j *jitterLink) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *gvstack.PacketBuffer) {
	pkt.IncRef()
	time.AfterFunc(j.delay(), func() {
		j.Endpoint.DeliverNetworkPacket(proto, pkt)
		pkt.DecRef()
	})
}

func (j *jitterLink) WritePackets(pkts gvstack.PacketBufferList) (int, tcpip.Error) {
	n := pkts.Len()
	for _, pkt := range pkts.AsSlice() {
		pkt.IncRef()
		time.AfterFunc(j.delay(), func() {
			var one gvstack.PacketBufferList
			one.PushBack(pkt)
			_, _ = j.Endpoint.WritePackets(one)
			pkt.DecRef()
		})
	}
	return n, nil
}
