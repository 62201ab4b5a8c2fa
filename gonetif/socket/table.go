package socket

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// MaxDescriptors bounds descriptor numbers (and so open sockets).
const MaxDescriptors = 1 << 16

// Table maps descriptor numbers to sockets. Each socket's number is a real
// host descriptor held open as a placeholder (an eventfd), so the kernel
// never hands the same number to a file or host socket while ours lives.
type Table struct {
	// SendCoalesce turns send coalescing on for every stream socket
	// added (see Socket.SetSendCoalesce); NewTable turns it on. Set it
	// before use.
	SendCoalesce bool

	slots [MaxDescriptors]atomic.Pointer[Socket]
	open  atomic.Int64

	// Closed TCP endpoints that may still hold unsent data; see Drain.
	closingMu sync.Mutex
	closing   []tcpip.Endpoint
	pruneAt   int
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{SendCoalesce: true} }

// Add gives so a descriptor number.
func (t *Table) Add(so *Socket) (int, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return -1, err
	}
	if fd >= MaxDescriptors {
		unix.Close(fd)
		return -1, unix.EMFILE
	}
	if t.SendCoalesce {
		so.SetSendCoalesce(true)
	}
	t.slots[fd].Store(so)
	t.open.Add(1)
	return fd, nil
}

// Get returns the socket behind fd, or EBADF.
func (t *Table) Get(fd int) (*Socket, error) {
	if fd < 0 || fd >= MaxDescriptors {
		return nil, unix.EBADF
	}
	if so := t.slots[fd].Load(); so != nil {
		return so, nil
	}
	return nil, unix.EBADF
}

// Close closes the socket behind fd and releases its number.
func (t *Table) Close(fd int) error {
	if fd < 0 || fd >= MaxDescriptors {
		return unix.EBADF
	}
	so := t.slots[fd].Swap(nil)
	if so == nil {
		return unix.EBADF
	}
	t.open.Add(-1)
	err := so.Release() // callers linger first (Socket.LingerStep)
	if so.Type == unix.SOCK_STREAM && stillSending(so.endpoint()) {
		t.closingMu.Lock()
		// Forget finished ones now and then, so the list stays small in a
		// long-running process.
		if len(t.closing) >= t.pruneAt {
			t.pruneLocked()
			t.pruneAt = 2*len(t.closing) + 64
		}
		t.closing = append(t.closing, so.endpoint())
		t.closingMu.Unlock()
	}
	// The number may be reused only once the socket is gone.
	unix.Close(fd)
	return err
}

// Len returns the number of open sockets.
func (t *Table) Len() int { return int(t.open.Load()) }

// Drain waits, at most timeout, until every TCP socket closed through the
// table (every one for which match says true; nil: all) has delivered its
// data and FIN. The kernel does this after a process exits; a user-space
// stack has to do it before. It returns how many connections were still
// sending when time ran out.
func (t *Table) Drain(timeout time.Duration, match func(tcpip.Endpoint) bool) int {
	deadline := time.Now().Add(timeout)
	for {
		t.closingMu.Lock()
		t.pruneLocked()
		n := 0
		for _, ep := range t.closing {
			if match == nil || match(ep) {
				n++
			}
		}
		t.closingMu.Unlock()
		if n == 0 || !time.Now().Before(deadline) {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (t *Table) pruneLocked() {
	kept := t.closing[:0]
	for _, ep := range t.closing {
		if stillSending(ep) {
			kept = append(kept, ep)
		}
	}
	clear(t.closing[len(kept):])
	t.closing = kept
}

func stillSending(ep tcpip.Endpoint) bool {
	switch tcp.EndpointState(ep.State()) {
	case tcp.StateEstablished, tcp.StateSynSent, tcp.StateSynRecv, tcp.StateFinWait1,
		tcp.StateClosing, tcp.StateCloseWait, tcp.StateLastAck:
		return true
	}
	return false
}
