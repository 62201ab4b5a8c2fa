package vlan

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The wire between processes is a UNIX SOCK_SEQPACKET connection carrying
// one Ethernet frame per message, nothing else: message boundaries come
// from the kernel, and a peer that exits is seen at once as end of file.
// An empty message cannot be told from end of file and ends the
// connection.
const network = "unixpacket"

// Server lets other processes join a switch over a UNIX socket.
type Server struct {
	sw   *Switch
	ln   *net.UnixListener
	path string
	wg   sync.WaitGroup

	mu     sync.Mutex
	conns  map[*net.UnixConn]struct{}
	closed bool
}

// Listen makes the switch reachable at path. A socket file left behind by
// a switch that is gone is replaced; one that still answers is an error
// wrapping unix.EADDRINUSE.
func Listen(sw *Switch, path string) (*Server, error) {
	addr := &net.UnixAddr{Name: path, Net: network}
	ln, err := net.ListenUnix(network, addr)
	if errors.Is(err, unix.EADDRINUSE) && stale(path) {
		if rmErr := os.Remove(path); rmErr == nil {
			ln, err = net.ListenUnix(network, addr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("vlan: listen on %s: %w", path, err)
	}
	srv := &Server{sw: sw, ln: ln, path: path, conns: make(map[*net.UnixConn]struct{})}
	srv.wg.Add(1)
	go srv.accept()
	return srv, nil
}

// stale reports whether path is a socket nobody listens on.
func stale(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return false
	}
	c, err := net.Dial(network, path)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, unix.ECONNREFUSED)
}

// Path returns the socket path.
func (srv *Server) Path() string { return srv.path }

func (srv *Server) accept() {
	defer srv.wg.Done()
	for {
		c, err := srv.ln.AcceptUnix()
		if err != nil {
			srv.mu.Lock()
			closed := srv.closed
			srv.mu.Unlock()
			if !closed {
				srv.sw.logf("vlan: accept on %s: %v; no more peers", srv.path, err)
			}
			return
		}
		srv.mu.Lock()
		if srv.closed {
			srv.mu.Unlock()
			c.Close()
			return
		}
		srv.conns[c] = struct{}{}
		srv.wg.Add(1)
		srv.mu.Unlock()
		go srv.serve(c)
	}
}

// serve runs one peer: its frames go into the switch from here, frames to
// it leave from its port's goroutine.
func (srv *Server) serve(c *net.UnixConn) {
	defer srv.wg.Done()
	defer func() {
		srv.mu.Lock()
		delete(srv.conns, c)
		srv.mu.Unlock()
	}()
	raw, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return
	}
	// A peer that does not read blocks only its own port's goroutine; its
	// queue then fills and frames to it are dropped.
	p, err := srv.sw.addPort(peerName(raw), func(f []byte) { _ = sendFrame(raw, f) })
	if err != nil {
		c.Close()
		return
	}
	srv.sw.logf("vlan: %s joined", p.name)
	buf := make([]byte, srv.sw.maxFrame)
	for {
		n, _, flags, _, err := c.ReadMsgUnix(buf, nil)
		if err != nil || n == 0 {
			break
		}
		if flags&unix.MSG_TRUNC != 0 {
			srv.sw.oversize.Add(1)
			srv.sw.limits[logOversize].logf(srv.sw.logf, "%s: frame longer than %d bytes (MTU %d) dropped", p.name, srv.sw.maxFrame, srv.sw.mtu)
			continue
		}
		_ = srv.sw.input(p, append([]byte(nil), buf[:n]...)) // a refusal is logged by input
	}
	c.Close() // unblocks a write to this peer
	p.leave()
	srv.sw.logf("vlan: %s left", p.name)
}

// peerName is the peer's process, for log lines.
func peerName(rc syscall.RawConn) string {
	var cred *unix.Ucred
	_ = rc.Control(func(fd uintptr) {
		cred, _ = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if cred == nil {
		return "peer"
	}
	return fmt.Sprintf("pid %d", cred.Pid)
}

// Close stops accepting, disconnects every peer, removes the socket file
// and waits for the server's goroutines. The switch itself stays up.
func (srv *Server) Close() error {
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		return nil
	}
	srv.closed = true
	err := srv.ln.Close() // removes the socket file
	for c := range srv.conns {
		c.Close()
	}
	srv.mu.Unlock()
	srv.wg.Wait()
	return err
}
