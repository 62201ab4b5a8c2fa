package socket

import (
	"bytes"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Corking of UDP sends, as Linux's udp_sendmsg does it and gVisor does
// not (it refuses MSG_MORE): while UDP_CORK is on, or a send says
// MSG_MORE, the payloads are gathered and leave as one datagram at the
// next send without MSG_MORE while UDP_CORK is off, or when UDP_CORK is
// cleared. The first part fixes the destination; an error drops what was
// gathered.

// Largest UDP payloads: an IPv4 datagram holds 65535 bytes with its 20
// byte header, an IPv6 payload 65535 bytes; both less the UDP header.
const (
	maxUDPPayload4 = 65535 - 20 - 8
	maxUDPPayload6 = 65535 - 8
)

type corkState struct {
	active  atomic.Bool // on || pending, read without mu on every send
	mu      sync.Mutex
	on      bool // UDP_CORK
	pending bool // data holds the first part of a datagram
	data    []byte
	to      *tcpip.FullAddress // the first part's destination; nil: the peer
}

func (so *Socket) corked() bool {
	x := so.extra.Load()
	if x == nil {
		return false
	}
	x.cork.mu.Lock()
	defer x.cork.mu.Unlock()
	return x.cork.on
}

// corkedBytes is the payload gathered for the next datagram.
func (so *Socket) corkedBytes() int {
	x := so.extra.Load()
	if x == nil {
		return 0
	}
	x.cork.mu.Lock()
	defer x.cork.mu.Unlock()
	if !x.cork.pending {
		return 0
	}
	return len(x.cork.data)
}

// corking: this send goes through the cork (a UDP socket only).
func (so *Socket) corking(more bool) bool {
	if so.Protocol != unix.IPPROTO_UDP || so.Type != unix.SOCK_DGRAM {
		return false
	}
	if more {
		return true
	}
	x := so.extra.Load()
	return x != nil && x.cork.active.Load()
}

// corkSend adds b to the datagram being gathered and sends it unless
// more or UDP_CORK holds it back. It answers len(b) or the error.
func (so *Socket) corkSend(b []byte, to *tcpip.FullAddress, more bool) (int, error) {
	c := &so.extraOf().cork
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.pending {
		if to == nil {
			if _, err := so.endpoint().GetRemoteAddress(); err != nil {
				return 0, unix.EDESTADDRREQ
			}
		} else {
			t := *to
			c.to = &t
		}
		c.pending = true
		c.active.Store(true)
	}
	limit := maxUDPPayload4
	if so.Family == unix.AF_INET6 {
		limit = maxUDPPayload6
	}
	if len(c.data)+len(b) > limit {
		c.dropLocked()
		return 0, unix.EMSGSIZE
	}
	before := len(c.data)
	c.data = append(c.data, b...)
	if more || c.on {
		return len(b), nil
	}
	if err := so.corkFlushLocked(c); err != nil {
		if err == unix.EAGAIN {
			// No room now: keep the earlier parts; the retry brings b again.
			c.data = c.data[:before]
			return 0, err
		}
		return 0, err
	}
	return len(b), nil
}

// corkFlushLocked sends the gathered datagram; it is dropped unless the
// send found no room (EAGAIN).
func (so *Socket) corkFlushLocked(c *corkState) error {
	if !c.pending {
		return nil
	}
	r := bytes.NewReader(c.data)
	_, err := so.endpoint().Write(r, tcpip.WriteOptions{To: c.to})
	if err != nil {
		e := errnoOf(err)
		if e != unix.EAGAIN {
			c.dropLocked()
		}
		return e
	}
	c.dropLocked()
	return nil
}

func (c *corkState) dropLocked() {
	c.pending = false
	c.data = c.data[:0]
	c.to = nil
	c.active.Store(c.on)
}

// setCork is setsockopt(UDP_CORK): clearing it sends what was gathered
// (its error is not reported, as on Linux).
func (so *Socket) setCork(on bool) {
	c := &so.extraOf().cork
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = on
	c.active.Store(on || c.pending)
	if !on {
		so.corkFlushLocked(c) //nolint:errcheck // Linux drops it too
	}
}
