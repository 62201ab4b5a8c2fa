// Package vlan is a virtual Ethernet LAN: a learning switch whose ports are
// link endpoints (simulated devices in this process) or connections from
// other processes over a UNIX socket (see Listen and Dial). No devices, no
// privileges.
//
// The switch learns source MACs and sends a unicast frame to the one port
// its destination was last seen on; broadcast, multicast and unknown
// destinations go to every other port. Every port has a bounded queue:
// when a port's device is slower than the traffic towards it, frames to
// that port are dropped (as a switch drops at a congested egress) and the
// rest of the LAN is not held up.
package vlan

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

const (
	// DefaultMTU is the IP MTU carried when Options.MTU is 0.
	DefaultMTU = 1500
	// MaxMTU is the largest Options.MTU accepted.
	MaxMTU = 65535
	// DefaultQueueLen is the per-port queue when Options.QueueLen is 0.
	DefaultQueueLen = 1024

	fdbLimit = 4096            // learned MACs; beyond it unknown sources are flooded to
	fdbAge   = 5 * time.Minute // a MAC not heard from for this long is forgotten
	moveWin  = time.Second     // a MAC on two ports within this window is reported
)

// Options configure a Switch.
type Options struct {
	// MTU is the largest IP MTU on the LAN: frames longer than MTU plus
	// the 14-byte Ethernet header are dropped. 0 means DefaultMTU.
	MTU uint32
	// QueueLen bounds the frames waiting for each port. 0 means
	// DefaultQueueLen.
	QueueLen int
	// Logf receives diagnostic lines (dropped frames, peers joining and
	// leaving), at most one line per second per kind. nil: no logging.
	Logf func(format string, args ...any)
}

// ErrClosed is returned when joining a closed switch, and for frames
// sent through a port that left.
var ErrClosed = errors.New("vlan: switch closed")

// FrameError reports a frame the switch refused; it unwraps to
// unix.EINVAL (malformed) or unix.EMSGSIZE (too long).
type FrameError struct {
	Len    int
	Reason string
	Errno  unix.Errno
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("vlan: %d-byte frame dropped: %s", e.Len, e.Reason)
}

// Unwrap returns the errno class of the error.
func (e *FrameError) Unwrap() error { return e.Errno }

// Stats count frames through the switch.
type Stats struct {
	Forwarded uint64 // unicast frames sent to the one port that has the MAC
	Flooded   uint64 // broadcast, multicast and unknown-destination frames
	Malformed uint64 // shorter than an Ethernet header, or a multicast source
	Oversize  uint64 // longer than the MTU allows
	QueueFull uint64 // frame copies dropped at a full port queue
	Ports     int    // ports attached now
}

// Switch is the LAN. Its zero value is not usable: call NewSwitch.
type Switch struct {
	mtu      uint32
	maxFrame int
	queueLen int
	logf     func(format string, args ...any)

	mu     sync.RWMutex
	ports  map[*port]struct{}
	fdb    map[[6]byte]*fdbEntry
	closed bool
	nextID int

	forwarded, flooded, malformed, oversize, queueFull atomic.Uint64
	limits                                             [4]logLimit
}

type fdbEntry struct {
	port *port        // immutable: a move replaces the entry
	seen atomic.Int64 // unix nanoseconds
}

// log kinds, each limited separately.
const (
	logMalformed = iota
	logOversize
	logQueue
	logMove
)

// NewSwitch returns an empty switch. It runs no goroutine of its own; each
// port has one, stopped when the port leaves.
func NewSwitch(opts Options) (*Switch, error) {
	if opts.MTU == 0 {
		opts.MTU = DefaultMTU
	}
	if opts.MTU < 68 || opts.MTU > MaxMTU {
		return nil, fmt.Errorf("vlan: MTU %d out of range 68..%d: %w", opts.MTU, MaxMTU, unix.EINVAL)
	}
	if opts.QueueLen == 0 {
		opts.QueueLen = DefaultQueueLen
	}
	if opts.QueueLen < 1 {
		return nil, fmt.Errorf("vlan: queue length %d: %w", opts.QueueLen, unix.EINVAL)
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Switch{
		mtu:      opts.MTU,
		maxFrame: int(opts.MTU) + header.EthernetMinimumSize,
		queueLen: opts.QueueLen,
		logf:     logf,
		ports:    make(map[*port]struct{}),
		fdb:      make(map[[6]byte]*fdbEntry),
	}, nil
}

// MTU returns the LAN's IP MTU.
func (s *Switch) MTU() uint32 { return s.mtu }

// Stats returns the counters.
func (s *Switch) Stats() Stats {
	s.mu.RLock()
	n := len(s.ports)
	s.mu.RUnlock()
	return Stats{
		Forwarded: s.forwarded.Load(), Flooded: s.flooded.Load(),
		Malformed: s.malformed.Load(), Oversize: s.oversize.Load(),
		QueueFull: s.queueFull.Load(), Ports: n,
	}
}

// Close detaches every port and refuses new ones. Port endpoints stay
// valid objects; their frames go nowhere.
func (s *Switch) Close() {
	s.mu.Lock()
	s.closed = true
	ports := make([]*port, 0, len(s.ports))
	for p := range s.ports {
		ports = append(ports, p)
	}
	s.mu.Unlock()
	for _, p := range ports {
		p.leave()
	}
}

// port is one attachment: a queue and the goroutine that empties it into
// deliver (a device's receive path, or a socket).
type port struct {
	sw      *Switch
	name    string
	q       chan []byte
	deliver func(frame []byte)
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func (s *Switch) addPort(name string, deliver func([]byte)) (*port, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.nextID++
	p := &port{
		sw:      s,
		name:    fmt.Sprintf("port %d (%s)", s.nextID, name),
		q:       make(chan []byte, s.queueLen),
		deliver: deliver,
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.ports[p] = struct{}{}
	go p.run()
	return p, nil
}

func (p *port) run() {
	defer close(p.done)
	for {
		select {
		case f := <-p.q:
			p.deliver(f)
		case <-p.stop:
			return
		}
	}
}

// leave detaches the port and waits for its goroutine; safe to call more
// than once, never from that goroutine.
func (p *port) leave() {
	p.once.Do(func() {
		s := p.sw
		s.mu.Lock()
		delete(s.ports, p)
		for mac, e := range s.fdb {
			if e.port == p {
				delete(s.fdb, mac)
			}
		}
		s.mu.Unlock()
		close(p.stop)
	})
	<-p.done
}

func (p *port) enqueue(frame []byte) {
	select {
	case p.q <- frame:
	default:
		p.sw.queueFull.Add(1)
		p.sw.limits[logQueue].logf(p.sw.logf, "vlan: %s: queue full (%d frames), frame dropped", p.name, cap(p.q))
	}
}

// input takes a frame sent by port from. The switch keeps the slice (it
// is shared, read-only, by every port it goes to): callers pass a copy.
func (s *Switch) input(from *port, frame []byte) error {
	select {
	case <-from.stop: // unplugged: its frames go nowhere
		return ErrClosed
	default:
	}
	if err := s.check(frame); err != nil {
		if errors.Is(err, unix.EMSGSIZE) {
			s.oversize.Add(1)
			s.limits[logOversize].logf(s.logf, "%s: %v", from.name, err)
		} else {
			s.malformed.Add(1)
			s.limits[logMalformed].logf(s.logf, "%s: %v", from.name, err)
		}
		return err
	}
	dst := [6]byte(frame[0:6])
	now := time.Now().UnixNano()
	s.learn([6]byte(frame[6:12]), from, now)
	if dst[0]&1 == 0 {
		s.mu.RLock()
		e := s.fdb[dst]
		s.mu.RUnlock()
		if e != nil && now-e.seen.Load() < int64(fdbAge) {
			if e.port != from { // never back out of the port it came in on
				s.forwarded.Add(1)
				e.port.enqueue(frame)
			}
			return nil
		}
	}
	s.flooded.Add(1)
	s.mu.RLock()
	for p := range s.ports {
		if p != from {
			p.enqueue(frame)
		}
	}
	s.mu.RUnlock()
	return nil
}

func (s *Switch) check(frame []byte) error {
	switch {
	case len(frame) < header.EthernetMinimumSize:
		return &FrameError{Len: len(frame), Reason: "shorter than an Ethernet header", Errno: unix.EINVAL}
	case len(frame) > s.maxFrame:
		return &FrameError{Len: len(frame), Reason: fmt.Sprintf("longer than %d (MTU %d)", s.maxFrame, s.mtu), Errno: unix.EMSGSIZE}
	case frame[6]&1 != 0:
		return &FrameError{Len: len(frame), Reason: "multicast source address " + net.HardwareAddr(frame[6:12]).String(), Errno: unix.EINVAL}
	}
	return nil
}

func (s *Switch) learn(mac [6]byte, p *port, now int64) {
	s.mu.RLock()
	e := s.fdb[mac]
	s.mu.RUnlock()
	if e != nil && e.port == p {
		e.seen.Store(now)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, live := s.ports[p]; !live {
		return
	}
	e = s.fdb[mac]
	switch {
	case e != nil && e.port == p:
		e.seen.Store(now)
		return
	case e != nil && now-e.seen.Load() < int64(moveWin):
		// Two live devices with one MAC make the LAN flap between them.
		s.limits[logMove].logf(s.logf, "vlan: MAC %s seen on %s and %s within %v: two devices with one MAC? give each its own",
			net.HardwareAddr(mac[:]), e.port.name, p.name, moveWin)
	case e == nil && len(s.fdb) >= fdbLimit:
		s.expireLocked(now)
		if len(s.fdb) >= fdbLimit {
			return // table full: this source's replies are flooded
		}
	}
	ne := &fdbEntry{port: p}
	ne.seen.Store(now)
	s.fdb[mac] = ne
}

func (s *Switch) expireLocked(now int64) {
	for mac, e := range s.fdb {
		if now-e.seen.Load() >= int64(fdbAge) {
			delete(s.fdb, mac)
		}
	}
}

// logLimit lets one line per second through and counts the rest.
type logLimit struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (l *logLimit) logf(logf func(string, ...any), format string, args ...any) {
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.last) < time.Second {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	if n > 0 {
		format += fmt.Sprintf(" (%d similar lines suppressed)", n)
	}
	logf(format, args...)
}
