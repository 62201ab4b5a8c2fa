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
// host descriptor held open as a placeholder (a duplicate of one eventfd,
// see placeholder), so the kernel never hands the same number to a file
// or host socket while ours lives.
type Table struct {
	// SendCoalesce turns send coalescing on for every stream socket
	// added (see Socket.SetSendCoalesce); NewTable turns it on. Set it
	// before use.
	SendCoalesce bool
	// InlineReceivers, when set, turns run-to-completion receive on for
	// every socket added (Socket.SetInlineReceivers). Set it before use.
	InlineReceivers InlineReceivers
	// UDPFastPath, when set, turns the UDP fast path on for every UDP
	// socket added (Socket.SetUDPFastPath; GONETIF_UDP_FASTPATH). Set it
	// before use.
	UDPFastPath FrameOuts

	slots [MaxDescriptors]atomic.Pointer[Socket]
	open  atomic.Int64

	// Closed TCP endpoints that may still hold unsent data; see Drain.
	closingMu sync.Mutex
	closing   []tcpip.Endpoint
	pruneAt   int
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{SendCoalesce: true} }

// Add gives so a descriptor number, close-on-exec.
func (t *Table) Add(so *Socket) (int, error) { return t.AddCloexec(so, true) }

// AddCloexec gives so a descriptor number, with FD_CLOEXEC set on it only
// when cloexec (socket(2) without SOCK_CLOEXEC leaves it clear).
func (t *Table) AddCloexec(so *Socket, cloexec bool) (int, error) {
	fd, err := placeholder(cloexec)
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
	if t.InlineReceivers != nil {
		so.SetInlineReceivers(t.InlineReceivers)
	}
	if t.UDPFastPath != nil {
		so.SetUDPFastPath(t.UDPFastPath)
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

// placeholderSource is the one eventfd every socket's number duplicates.
// A duplicate costs one system call (F_DUPFD) and no new kernel file, and
// takes FD_CLOEXEC as it is made; an eventfd per socket cost eventfd2,
// an fcntl when close-on-exec was not wanted, and a file freed on close
// (docs/DESIGN.md, D3). The source is never written, so every number
// polls, reads and fstats as an idle eventfd, as before.
var placeholderSource struct {
	once sync.Once
	fd   int
	err  error
}

func placeholder(cloexec bool) (int, error) {
	src := &placeholderSource
	src.once.Do(func() {
		src.fd, src.err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	})
	if src.err != nil {
		return -1, src.err
	}
	cmd := unix.F_DUPFD
	if cloexec {
		cmd = unix.F_DUPFD_CLOEXEC
	}
	return unix.FcntlInt(uintptr(src.fd), cmd, 0)
}
