package stack_test

import (
	"math/rand/v2"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// jitterLink delays frames both ways as netem's "delay D reorder P%"
// does: a share of reorderPct frames goes at once, overtaking the others,
// which wait D plus up to a tenth of D of jitter. The loss suite uses it
// where the kernel has no netem (this machine's kernel has none).
type jitterLink struct {
	nested.Endpoint
	delayBy    time.Duration
	reorderPct int
}

func newJitterLink(lower gvstack.LinkEndpoint, delay time.Duration, reorderPct int) *jitterLink {
	j := &jitterLink{delayBy: delay, reorderPct: reorderPct}
	j.Endpoint.Init(lower, j)
	return j
}

func (j *jitterLink) delay() time.Duration {
	if rand.IntN(100) < j.reorderPct {
		return 0
	}
	return j.delayBy + time.Duration(rand.Int64N(int64(j.delayBy/10)+1))
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
