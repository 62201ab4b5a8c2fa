package socket_test

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/internal/testnet"
	"gonetif.dev/gonetif/socket"
)

// The readiness table: the same socket states made on the Linux kernel
// (loopback) and on gonetif, polled for POLLIN|POLLOUT|POLLPRI|POLLRDHUP;
// the answers must be the kernel's, bit for bit. No privileges needed.

const pollAsk = unix.POLLIN | unix.POLLOUT | unix.POLLPRI | unix.POLLRDHUP

// sockets is one implementation of the operations the states need; the
// handles are its own.
type sockets interface {
	newSocket(typ int) int
	listen(h int) int // returns the port
	connect(h, port int)
	accept(h int) int
	send(h int, b string)
	drain(h int)
	shutdown(h, how int)
	soError(h int) int
	closedPort() int
	poll(h int) int
}

type kernelSockets struct{ t *testing.T }

func (k kernelSockets) newSocket(typ int) int {
	fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func (k kernelSockets) listen(fd int) int {
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		k.t.Fatal(err)
	}
	if err := unix.Listen(fd, 4); err != nil {
		k.t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	return sa.(*unix.SockaddrInet4).Port
}

func (k kernelSockets) connect(fd, port int) {
	unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port})
}

func (k kernelSockets) accept(fd int) int {
	for i := 0; i < 100; i++ {
		nfd, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err == nil {
			k.t.Cleanup(func() { unix.Close(nfd) })
			return nfd
		}
		time.Sleep(5 * time.Millisecond)
	}
	k.t.Fatal("kernel accept: nothing came")
	return -1
}

func (k kernelSockets) send(fd int, b string) { unix.Write(fd, []byte(b)) }
func (k kernelSockets) drain(fd int) {
	buf := make([]byte, 256)
	for {
		if n, err := unix.Read(fd, buf); n <= 0 || err != nil {
			return
		}
	}
}
func (k kernelSockets) shutdown(fd, how int) { unix.Shutdown(fd, how) }
func (k kernelSockets) soError(fd int) int {
	v, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	return v
}
func (k kernelSockets) closedPort() int {
	fd := k.newSocket(unix.SOCK_STREAM)
	unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	sa, _ := unix.Getsockname(fd)
	return sa.(*unix.SockaddrInet4).Port // closed by the cleanup, never listened on
}

// poll also checks that the kernel's select answers what SelectReady
// derives from the kernel's poll bits, in every state of the table.
func (k kernelSockets) poll(fd int) int {
	p := []unix.PollFd{{Fd: int32(fd), Events: pollAsk}}
	unix.Poll(p, 0)
	var rd, wr, ex unix.FdSet
	rd.Set(fd)
	wr.Set(fd)
	ex.Set(fd)
	if _, err := unix.Select(fd+1, &rd, &wr, &ex, &unix.Timeval{}); err != nil {
		k.t.Fatal(err)
	}
	p2 := []unix.PollFd{{Fd: int32(fd), Events: socket.SelectEvents(true, true, true)}}
	unix.Poll(p2, 0)
	r, w, e := socket.SelectReady(p2[0].Revents)
	if r != rd.IsSet(fd) || w != wr.IsSet(fd) || e != ex.IsSet(fd) {
		k.t.Errorf("select on poll bits %s: read/write/except %v %v %v, kernel's select %v %v %v",
			pollNames(int(p2[0].Revents)), r, w, e, rd.IsSet(fd), wr.IsSet(fd), ex.IsSet(fd))
	}
	return int(p[0].Revents)
}

type gonetifSockets struct {
	t    *testing.T
	n    *testnet.Net
	all  []*socket.Socket
	next int
}

func (g *gonetifSockets) add(so *socket.Socket) int {
	g.all = append(g.all, so)
	g.t.Cleanup(func() { so.Release() })
	return len(g.all) - 1
}

// Listeners live on B, everything else on A.
func (g *gonetifSockets) newSocket(typ int) int {
	so, err := socket.New(g.n.A.Gvisor(), unix.AF_INET, typ|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		g.t.Fatal(err)
	}
	return g.add(so)
}

func (g *gonetifSockets) listen(h int) int {
	g.all[h].Release()
	so, err := socket.New(g.n.B.Gvisor(), unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { so.Release() })
	g.all[h] = so
	g.next++
	port := 5400 + g.next
	if err := so.Bind(addr(ipB, uint16(port))); err != nil {
		g.t.Fatal(err)
	}
	if err := so.Listen(4); err != nil {
		g.t.Fatal(err)
	}
	return port
}

func (g *gonetifSockets) connect(h, port int) { g.all[h].Connect(addr(ipB, uint16(port))) }

func (g *gonetifSockets) accept(h int) int {
	for i := 0; i < 100; i++ {
		so, _, err := g.all[h].Accept()
		if err == nil {
			so.SetNonblock(true)
			return g.add(so)
		}
		time.Sleep(5 * time.Millisecond)
	}
	g.t.Fatal("gonetif accept: nothing came")
	return -1
}

func (g *gonetifSockets) send(h int, b string) { g.all[h].Send([]byte(b), nil, socket.SendFlags{}) }
func (g *gonetifSockets) drain(h int) {
	buf := make([]byte, 256)
	for {
		if res, err := g.all[h].Recv(buf, socket.RecvFlags{}); err != nil || res.N == 0 {
			return
		}
	}
}
func (g *gonetifSockets) shutdown(h, how int) { g.all[h].Shutdown(how) }
func (g *gonetifSockets) soError(h int) int   { return int(g.all[h].PendingError()) }
func (g *gonetifSockets) closedPort() int     { return 4999 }
func (g *gonetifSockets) poll(h int) int      { return int(g.all[h].Poll(pollAsk)) }

// settle gives both stacks time to deliver segments.
func settle() { time.Sleep(60 * time.Millisecond) }

// readinessTable makes each state on s and returns its poll answers.
func readinessTable(s sockets) map[string]int {
	got := map[string]int{}
	fresh := s.newSocket(unix.SOCK_STREAM)
	got["tcp fresh"] = s.poll(fresh)

	ln := s.newSocket(unix.SOCK_STREAM)
	port := s.listen(ln)
	got["listening, none pending"] = s.poll(ln)
	cli := s.newSocket(unix.SOCK_STREAM)
	s.connect(cli, port)
	settle()
	got["listening, one pending"] = s.poll(ln)
	srv := s.accept(ln)
	got["connected, idle"] = s.poll(cli)
	s.send(cli, "data")
	settle()
	got["connected, data queued"] = s.poll(srv)
	s.drain(srv)
	s.shutdown(cli, unix.SHUT_WR)
	settle()
	got["peer shut its side"] = s.poll(srv)
	got["own side shut"] = s.poll(cli)
	s.shutdown(srv, unix.SHUT_WR)
	settle()
	got["both sides shut (FIN both ways)"] = s.poll(cli)
	s.drain(cli)
	got["both sides shut, drained"] = s.poll(cli)

	rdwr := s.newSocket(unix.SOCK_STREAM)
	lnb := s.newSocket(unix.SOCK_STREAM)
	p3 := s.listen(lnb)
	s.connect(rdwr, p3)
	settle()
	s.accept(lnb)
	s.shutdown(rdwr, unix.SHUT_RDWR)
	settle()
	got["SHUT_RDWR"] = s.poll(rdwr)

	refused := s.newSocket(unix.SOCK_STREAM)
	s.connect(refused, s.closedPort())
	settle()
	got["refused, error pending"] = s.poll(refused)
	s.soError(refused)
	got["refused, error taken"] = s.poll(refused)

	u := s.newSocket(unix.SOCK_DGRAM)
	got["udp fresh"] = s.poll(u)
	return got
}

func TestReadinessTableMatchesKernel(t *testing.T) {
	want := readinessTable(kernelSockets{t})
	got := readinessTable(&gonetifSockets{t: t, n: testnet.New(t)})
	for state, w := range want {
		t.Logf("%-32s kernel %s", state, pollNames(w))
		if got[state] != w {
			t.Errorf("%-32s gonetif %-40s kernel %s", state, pollNames(got[state]), pollNames(w))
		}
	}
	if len(want) < 10 {
		t.Fatalf("only %d states compared", len(want))
	}
}

func pollNames(m int) string {
	names := []struct {
		bit  int
		name string
	}{{unix.POLLIN, "IN"}, {unix.POLLPRI, "PRI"}, {unix.POLLOUT, "OUT"}, {unix.POLLERR, "ERR"},
		{unix.POLLHUP, "HUP"}, {unix.POLLRDHUP, "RDHUP"}}
	s := ""
	for _, n := range names {
		if m&n.bit != 0 {
			s += n.name + " "
		}
	}
	return fmt.Sprintf("%#x %s", m, s)
}

// TestSelectFailsMatchesKernel: a descriptor that is not open makes the
// kernel's poll say POLLNVAL and its select fail; SelectFails turns the
// one into the other, and an open descriptor's bits fail nothing.
func TestSelectFailsMatchesKernel(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	unix.Close(fds[1]) // a number now closed
	for _, fd := range fds {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); (err == nil) != (fd == fds[0]) {
			t.Skipf("descriptor %d was reused by another test meanwhile", fd)
		}
		p := []unix.PollFd{{Fd: int32(fd), Events: socket.SelectEvents(true, true, true)}}
		if _, err := unix.Poll(p, 0); err != nil {
			t.Fatal(err)
		}
		var set unix.FdSet
		set.Set(fd)
		_, serr := unix.Select(fd+1, &set, nil, nil, &unix.Timeval{})
		if got := socket.SelectFails(p[0].Revents); !sameErr(got, serr) {
			t.Errorf("fd %d revents %#x: SelectFails %v, kernel select %v", fd, p[0].Revents, got, serr)
		}
	}
}
