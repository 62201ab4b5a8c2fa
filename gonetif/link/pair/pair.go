// Package pair joins two stacks with an in-memory Ethernet cable: no
// devices, no privileges. Tests and examples use it.
package pair

import (
	"sync"
	"sync/atomic"

	"gonetif.dev/gonetif/link/driver"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// queueLen bounds frames in flight per direction; beyond it frames are
// dropped as a full NIC queue would.
const queueLen = 1024

// Pair is the cable. Close stops its goroutines.
type Pair struct {
	A, B *driver.Endpoint

	toA, toB chan []byte
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	dropped  atomic.Uint64
}

// New returns two connected endpoints with the given MACs and MTU (0: 1500).
func New(macA, macB tcpip.LinkAddress, mtu uint32) *Pair {
	p := &Pair{stop: make(chan struct{})}
	toA := make(chan []byte, queueLen)
	toB := make(chan []byte, queueLen)
	p.toA, p.toB = toA, toB
	p.A = driver.New(driver.Options{MAC: macA, MTU: mtu, Transmit: p.sender(toB)})
	p.B = driver.New(driver.Options{MAC: macB, MTU: mtu, Transmit: p.sender(toA)})
	p.wg.Add(2)
	go p.deliver(toA, p.A)
	go p.deliver(toB, p.B)
	return p
}

func (p *Pair) sender(q chan<- []byte) func([]byte) error {
	return func(frame []byte) error {
		select {
		case q <- append([]byte(nil), frame...):
		case <-p.stop:
		default: // queue full: drop, like hardware
			p.dropped.Add(1)
		}
		return nil
	}
}

func (p *Pair) deliver(q <-chan []byte, to *driver.Endpoint) {
	defer p.wg.Done()
	for {
		select {
		case frame := <-q:
			to.Receive(frame)
		case <-p.stop:
			return
		}
	}
}

// Pending is the number of frames queued in both directions, not yet
// delivered.
func (p *Pair) Pending() int { return len(p.toA) + len(p.toB) }

// Dropped is the number of frames dropped so far because a direction's
// queue was full: a test can tell TCP's loss recovery from its own stall.
func (p *Pair) Dropped() uint64 { return p.dropped.Load() }

// Close stops delivery; safe to call more than once.
func (p *Pair) Close() {
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
}
