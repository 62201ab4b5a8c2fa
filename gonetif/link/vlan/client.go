package vlan

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/link/driver"
)

var _ stack.LinkEndpoint = (*Client)(nil)

// ClientOptions configure Dial.
type ClientOptions struct {
	// MAC is the device's hardware address; each device on the LAN needs
	// its own.
	MAC tcpip.LinkAddress
	// MTU is the device's IP MTU; 0 means DefaultMTU. Frames from the
	// switch longer than MTU plus the Ethernet header are dropped.
	MTU uint32
	// Logf receives diagnostic lines; nil: none.
	Logf func(format string, args ...any)
}

// ErrSwitchGone is returned for frames sent after the switch hung up.
var ErrSwitchGone = errors.New("vlan: the switch closed the connection")

// Client is a device's link endpoint on a switch in another process,
// reached over a UNIX socket. When the switch goes away the device stays,
// as with an unplugged cable: sends fail with ErrSwitchGone.
type Client struct {
	*driver.Endpoint
	conn *net.UnixConn
	raw  syscall.RawConn
	path string
	logf func(string, ...any)
	max  int

	gone      atomic.Bool
	txMu      sync.Mutex
	txq       [][]byte // frames waiting for room in the socket, oldest first
	txBusy    bool     // the writer is sending what it took from txq
	txWake    chan struct{}
	stop      chan struct{}
	txDropped atomic.Uint64
	limits    [2]logLimit
	wg        sync.WaitGroup
	closing   atomic.Bool
}

// Dial connects a new device to the switch listening at path.
func Dial(path string, opts ClientOptions) (*Client, error) {
	if len(opts.MAC) != 6 {
		return nil, fmt.Errorf("vlan: MAC must have 6 bytes, not %d: %w", len(opts.MAC), unix.EINVAL)
	}
	if opts.MTU == 0 {
		opts.MTU = DefaultMTU
	}
	if opts.MTU < 68 || opts.MTU > MaxMTU {
		return nil, fmt.Errorf("vlan: MTU %d out of range 68..%d: %w", opts.MTU, MaxMTU, unix.EINVAL)
	}
	conn, err := net.DialUnix(network, nil, &net.UnixAddr{Name: path, Net: network})
	if err != nil {
		return nil, fmt.Errorf("vlan: no switch at %s (start gonetif-switch %s): %w", path, path, err)
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("vlan: %s: %w", path, err)
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	c := &Client{conn: conn, raw: raw, path: path, logf: logf, max: int(opts.MTU) + header.EthernetMinimumSize,
		txWake: make(chan struct{}, 1), stop: make(chan struct{})}
	c.Endpoint = driver.New(driver.Options{MAC: opts.MAC, MTU: opts.MTU, Transmit: c.send})
	c.wg.Add(2)
	go c.read()
	go c.write()
	return c, nil
}

// send writes the frame to the socket at once when nothing is waiting
// (so it is in the kernel before the call returns: an app that sends and
// exits loses nothing), and otherwise queues it for the writer goroutine,
// keeping the order. When the queue is full the frame is dropped, as a NIC
// drops when its transmit ring is full: a slow switch never holds up the
// stack. (Dropping at once when the socket is full lost bursts at its
// ~90-frame buffer: 50-88 MB/s against 64-131 MB/s queued,
// BenchmarkBulk/socket.)
func (c *Client) send(frame []byte) error {
	if c.gone.Load() {
		return ErrSwitchGone
	}
	if len(frame) < header.EthernetMinimumSize || len(frame) > c.max {
		return &FrameError{Len: len(frame), Reason: fmt.Sprintf("not %d..%d bytes", header.EthernetMinimumSize, c.max), Errno: unix.EINVAL}
	}
	c.txMu.Lock()
	defer c.txMu.Unlock()
	if len(c.txq) == 0 && !c.txBusy {
		err := trySend(c.raw, frame)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EAGAIN) {
			c.hangUp(err)
			return ErrSwitchGone
		}
	}
	if len(c.txq) >= DefaultQueueLen {
		c.txDropped.Add(1)
		c.limits[0].logf(c.logf, "vlan: %s: transmit queue full, frame dropped", c.path)
		return nil
	}
	c.txq = append(c.txq, append([]byte(nil), frame...))
	select {
	case c.txWake <- struct{}{}:
	default:
	}
	return nil
}

// write empties the queue, waiting for room in the socket.
func (c *Client) write() {
	defer c.wg.Done()
	for {
		select {
		case <-c.txWake:
		case <-c.stop:
			return
		}
		for {
			c.txMu.Lock()
			if len(c.txq) == 0 {
				c.txMu.Unlock()
				break
			}
			f := c.txq[0]
			c.txq[0] = nil
			c.txq = c.txq[1:]
			c.txBusy = true // send must not overtake f
			c.txMu.Unlock()
			err := sendFrame(c.raw, f)
			c.txMu.Lock()
			c.txBusy = false
			c.txMu.Unlock()
			if err != nil {
				c.hangUp(err)
			}
		}
	}
}

// trySend sends one message if the socket has room, else fails with EAGAIN.
func trySend(raw syscall.RawConn, frame []byte) error {
	var err error
	if cerr := raw.Write(func(fd uintptr) bool {
		err = unix.Sendto(int(fd), frame, unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, nil)
		return true
	}); cerr != nil {
		return cerr
	}
	return err
}

// sendFrame sends one message, waiting (in the netpoller, not a thread)
// while the socket is full. MSG_NOSIGNAL: a C program hosting this code
// must not get SIGPIPE when the other side has gone.
func sendFrame(raw syscall.RawConn, frame []byte) error {
	var err error
	cerr := raw.Write(func(fd uintptr) bool {
		err = unix.Sendto(int(fd), frame, unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, nil)
		return err != unix.EAGAIN
	})
	if cerr != nil {
		return cerr
	}
	return err
}

func (c *Client) read() {
	defer c.wg.Done()
	buf := make([]byte, c.max)
	for {
		n, _, flags, _, err := c.conn.ReadMsgUnix(buf, nil)
		if err != nil || n == 0 {
			if err == nil {
				err = errors.New("end of file")
			}
			c.hangUp(err)
			return
		}
		if flags&unix.MSG_TRUNC != 0 || n < header.EthernetMinimumSize {
			c.limits[1].logf(c.logf, "vlan: %s: malformed frame from the switch dropped (%d bytes, truncated %v)", c.path, n, flags&unix.MSG_TRUNC != 0)
			continue
		}
		c.Endpoint.Receive(buf[:n]) // copies
	}
}

func (c *Client) hangUp(err error) {
	if c.gone.Swap(true) || c.closing.Load() {
		return
	}
	c.logf("vlan: switch at %s went away (%v); the device is unplugged", c.path, err)
}

// WriteFrame sends one raw Ethernet frame onto the LAN, bypassing the
// stack (tapio_output).
func (c *Client) WriteFrame(frame []byte) error { return c.send(frame) }

// TxDropped counts frames dropped because the transmit queue was full.
func (c *Client) TxDropped() uint64 { return c.txDropped.Load() }

// Close disconnects and closes the endpoint; safe more than once, and
// re-entered when closing the endpoint makes the stack remove the NIC.
func (c *Client) Close() {
	if c.closing.Swap(true) {
		return
	}
	c.gone.Store(true)
	close(c.stop)
	c.conn.Close()
	c.wg.Wait()
	c.Endpoint.Close()
}
