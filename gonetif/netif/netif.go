// Package netif models one network interface the way ESP-IDF's esp_netif
// does: a configuration, a driver (link endpoint), and a life cycle
// created → started → up → has IP, raising IP events as it goes.
package netif

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/dhcp"
)

// Flags mirror esp_netif_flags_t bit for bit.
type Flags uint32

// Interface flags.
const (
	FlagDHCPClient      Flags = 1 << 0
	FlagDHCPServer      Flags = 1 << 1
	FlagAutoUp          Flags = 1 << 2
	FlagGARP            Flags = 1 << 3
	FlagEventIPModified Flags = 1 << 4
	FlagIsPPP           Flags = 1 << 5
	FlagIsBridge        Flags = 1 << 6
	FlagMLDv6Report     Flags = 1 << 7
	FlagIPv6Autoconfig  Flags = 1 << 8
	minMTU, maxMTU            = 20, 9000
)

// IPInfo is an interface's IPv4 configuration. Zero addresses mean "none".
type IPInfo struct {
	IP, Netmask, Gateway netip.Addr
}

// HasIP reports whether an address other than 0.0.0.0 is set.
func (i IPInfo) HasIP() bool { return i.IP.IsValid() && !i.IP.IsUnspecified() }

func (i IPInfo) normalized() IPInfo {
	zero := netip.IPv4Unspecified()
	if !i.IP.IsValid() {
		i.IP = zero
	}
	if !i.Netmask.IsValid() {
		i.Netmask = zero
	}
	if !i.Gateway.IsValid() {
		i.Gateway = zero
	}
	return i
}

// Config describes an interface at creation, like esp_netif_inherent_config_t.
type Config struct {
	Key       string // unique key ("TAP", "ETH_DEF", ...)
	Desc      string // short description used in logs ("tap", "eth", ...)
	Flags     Flags
	MAC       net.HardwareAddr // nil or all zero: use the driver's MAC
	IPInfo    IPInfo           // static address, applied when started
	RoutePrio int              // higher wins the default route
	MTU       uint32           // 0: the driver's MTU
	// GotIPEvent and LostIPEvent are the event ids raised for this
	// interface; they are carried through to Event unchanged.
	GotIPEvent, LostIPEvent int32
	// NamePrefix is the two letters of the interface's name ("tp" for a
	// TAP, as lwIP's tapif); "" is DefaultNamePrefix. See Name.
	NamePrefix string
}

// State is where an interface is in its life cycle.
type State int

// Interface states.
const (
	StateCreated State = iota
	StateStarted
	StateUp
)

// Netif is one interface. Its methods are safe for concurrent use.
type Netif struct {
	m   *Manager
	cfg Config

	// Guarded by m.mu.
	link      gvstack.LinkEndpoint
	nic       tcpip.NICID
	state     State
	ip        IPInfo
	routePrio int
	hostname  string
	mac       tcpip.LinkAddress
	qdisc     gvstack.QueueingDiscipline // what the NIC writes through (FrameOut)

	dhcpStatus  DHCPStatus
	dhcpc       *dhcp.Client
	dhcpOpts    DHCPOptions
	ip6Routes   []ip6Route  // from router advertisements
	ll6Reported bool        // got-ip6 posted for the link-local address
	lostTimer   *time.Timer // IDF's lost-IP timer after a disconnect
}

// Key returns the interface key.
func (n *Netif) Key() string { return n.cfg.Key }

// Desc returns the interface description.
func (n *Netif) Desc() string { return n.cfg.Desc }

// Flags returns the configured flags.
func (n *Netif) Flags() Flags { return n.cfg.Flags }

// Config returns the creation configuration.
func (n *Netif) Config() Config { return n.cfg }

// Manager owns the interfaces of one stack and its route table.
type Manager struct {
	stack *gvstack.Stack

	mu            sync.Mutex
	netifs        []*Netif
	forcedDefault *Netif
	nextNIC       tcpip.NICID
	onEvent       func(Event)
	onLog         func(string)
	dns           [DNSMax]netip.Addr
	loopback      bool          // AddLoopback ran
	gen           atomic.Uint64 // see changed

	// LostIPDelay is how long after esp_netif_action_disconnected lost-IP
	// is raised if no address came back (0: DefaultLostIPDelay). Set it
	// before creating interfaces.
	LostIPDelay time.Duration

	// TxQueue is how many TCP frames per interface may wait for the
	// interface's writer goroutine (gVisor's fifo queueing discipline), so
	// that the goroutine that sends them does not also pay the driver's
	// write (a syscall into the TAP); 0 or below (the default): none, the
	// sender writes each frame itself. Set it before creating interfaces.
	// See tcpTxQueue for why TCP only, and why it is off by default.
	TxQueue int

	// AckHold is how long a bare TCP ACK may wait at the interface for the
	// connection's next segment to carry it instead (a delayed ACK; see
	// ackHold); 0 (the default): every ACK is written at once. Set it
	// before creating interfaces.
	AckHold time.Duration

	// UDPQueue puts UDP frames on that queue too (GONETIF_UDP_QUEUE): the
	// sender no longer pays the TAP write, and a TAP opened with USO gets
	// a flow's queued datagrams in one batch to merge. Needs TxQueue > 0.
	UDPQueue bool
}

// SuggestedTxQueue is the TxQueue length the side-by-side runs measured.
const SuggestedTxQueue = 1000

// NewManager returns a manager for interfaces on s.
func NewManager(s *gvstack.Stack) *Manager {
	return &Manager{stack: s, nextNIC: 1}
}

// tcpTxQueue hands TCP frames to a writer goroutine and writes every other
// frame on the sender's goroutine. TCP's processor goroutine sends ACKs and
// segments while it holds the connection, so the application's next call
// waits for its writes; queued, they no longer hold anyone up (side by
// side: connection rate 1.2-2.1x, bulk send 1.1-1.5x, request/response
// mostly faster but up to a quarter slower on a quiet machine;
// bench/RESULTS.md; so it is a switch, off until request/response gains
// too). A UDP datagram is written by the sending thread itself, where
// the hand-off only adds a wake-up (queued, UDP request/response lost up
// to half its rate), unless Manager.UDPQueue: then datagrams that stream
// are queued, so that the TAP can merge them (link/tap/uso.go).
type tcpTxQueue struct {
	queue gvstack.QueueingDiscipline
	link  gvstack.LinkWriter
	udp   bool // Manager.UDPQueue
	// UDP frames are queued only while they stream: some are still
	// queued (so a flow keeps its order), or the previous one came less
	// than udpStreamGap ago with nothing received since. A lone request,
	// and the next request of a request/response exchange however fast
	// its round trips, is written by its sender.
	udpQueued atomic.Int64
	udpLast   atomic.Int64 // monotonic ns of the last UDP frame
	// received counts the IP packets the stack received (its own
	// counter, nil in unit tests); udpRx is its value at the last UDP
	// frame.
	received *tcpip.StatCounter
	udpRx    atomic.Uint64

	// A UDP sender that finds the queue full waits for the writer to make
	// room instead of losing the datagram (enqueueUDP). room is closed
	// and replaced after each batch written while roomWaiters > 0.
	roomMu      sync.Mutex
	room        chan struct{}
	roomWaiters atomic.Int32
}

// udpRoomWait bounds a UDP sender's wait for room in a full queue. The
// writer frees room at its pace (microseconds a frame); only a link whose
// writes hang makes the wait run out, and then the datagram is dropped as
// by a full Linux qdisc (ENOBUFS with IP_RECVERR, else unseen).
const udpRoomWait = time.Second

// roomSignal returns the channel closed when the writer next makes room.
func (q *tcpTxQueue) roomSignal() <-chan struct{} {
	q.roomMu.Lock()
	defer q.roomMu.Unlock()
	if q.room == nil {
		q.room = make(chan struct{})
	}
	return q.room
}

// signalRoom wakes the senders waiting for room.
func (q *tcpTxQueue) signalRoom() {
	q.roomMu.Lock()
	if q.room != nil {
		close(q.room)
		q.room = nil
	}
	q.roomMu.Unlock()
}

// enqueueUDP queues a UDP frame; when the queue is full it waits for room
// rather than drop it. Linux would not lose it either: a NIC whose ring is
// full stops its queue and the socket's send buffer pushes back (blocks,
// or EAGAIN when non-blocking, which the socket's send buffer still does
// here: queued frames stay charged to it). The wait is the writer's pace,
// what writing the frame inline would cost.
func (q *tcpTxQueue) enqueueUDP(pkt *gvstack.PacketBuffer) tcpip.Error {
	err := q.queue.WritePacket(pkt)
	if _, full := err.(*tcpip.ErrNoBufferSpace); !full {
		return err
	}
	q.roomWaiters.Add(1)
	defer q.roomWaiters.Add(-1)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	deadline := time.Now().Add(udpRoomWait)
	for {
		// Taken before the retry: room made after it closes this channel.
		room := q.roomSignal()
		err = q.queue.WritePacket(pkt)
		if _, full := err.(*tcpip.ErrNoBufferSpace); !full {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return err
		}
		if timer == nil {
			timer = time.NewTimer(left)
		}
		select {
		case <-room:
		case <-timer.C:
			timer = nil
		}
	}
}

// udpStreamGap: a UDP frame this soon after the previous one, with no
// packet received in between, is taken for part of a stream (a variable
// for tests).
var udpStreamGap = 20 * time.Microsecond

var monoStart = time.Now()

// queueUDP decides for a UDP frame handed over at now (ns since
// monoStart) when the stack had received rx IP packets: queue it while
// UDP frames stream or are still queued. A frame after a receive is not
// queued: request/response pays no hand-off to the writer even when its
// round trips are shorter than the gap (a quiet machine's are ~20 µs),
// and the answer it waited for shows it is not a stream.
func (q *tcpTxQueue) queueUDP(now int64, rx uint64) bool {
	last := q.udpLast.Swap(now)
	rxBefore := q.udpRx.Swap(rx)
	return q.udpQueued.Load() > 0 || (last != 0 && now-last < int64(udpStreamGap) && rx == rxBefore)
}

// receivedPackets is the stack's count of IP packets received.
func (q *tcpTxQueue) receivedPackets() uint64 {
	if q.received == nil {
		return 0
	}
	return q.received.Value()
}

// udpCounter is the writer's link: it counts the UDP frames written.
type udpCounter struct {
	q    *tcpTxQueue
	link gvstack.LinkWriter
}

func (c udpCounter) WritePackets(pkts gvstack.PacketBufferList) (int, tcpip.Error) {
	// The batch has left the queue: its room is free now, not once the
	// link has written it (a link that hangs would hold a waiting sender
	// for its whole wait and the retry would then find room unannounced).
	if c.q.roomWaiters.Load() > 0 {
		c.q.signalRoom()
	}
	udp := 0
	for _, p := range pkts.AsSlice() {
		if p.TransportProtocolNumber == header.UDPProtocolNumber {
			udp++
		}
	}
	n, err := c.link.WritePackets(pkts)
	c.q.udpQueued.Add(int64(-udp))
	if c.q.roomWaiters.Load() > 0 {
		c.q.signalRoom()
	}
	return n, err
}

func (q *tcpTxQueue) WritePacket(pkt *gvstack.PacketBuffer) tcpip.Error {
	if pkt.TransportProtocolNumber == header.TCPProtocolNumber {
		return q.queue.WritePacket(pkt)
	}
	if q.udp && pkt.TransportProtocolNumber == header.UDPProtocolNumber {
		if q.queueUDP(int64(time.Since(monoStart)), q.receivedPackets()) {
			q.udpQueued.Add(1)
			if err := q.enqueueUDP(pkt); err != nil {
				q.udpQueued.Add(-1)
				return err
			}
			return nil
		}
	}
	return writeOne(q.link, pkt)
}

func (q *tcpTxQueue) Close() {
	q.queue.Close()
	q.signalRoom() // waiters retry and get ErrClosedForSend
}

func (m *Manager) txQueueLen() int { return m.TxQueue }

// Stack returns the gVisor stack the interfaces live on.
func (m *Manager) Stack() *gvstack.Stack { return m.stack }

// OnEvent sets the function that receives IP events. It is called without
// internal locks held, from the goroutine that caused the event.
func (m *Manager) OnEvent(fn func(Event)) {
	m.mu.Lock()
	m.onEvent = fn
	m.mu.Unlock()
}

// OnLog sets where diagnostic lines (DHCP progress) go.
func (m *Manager) OnLog(fn func(string)) {
	m.mu.Lock()
	m.onLog = fn
	m.mu.Unlock()
}

// Logf writes a diagnostic line where OnLog said.
func (m *Manager) Logf(format string, args ...any) { m.logf("")(format, args...) }

func (m *Manager) logf(prefix string) func(string, ...any) {
	return func(format string, args ...any) {
		m.mu.Lock()
		fn := m.onLog
		m.mu.Unlock()
		if fn != nil {
			fn(prefix + fmt.Sprintf(format, args...))
		}
	}
}

// DNS slots, as esp_netif_dns_type_t.
const (
	DNSMain = iota
	DNSBackup
	DNSFallback
	DNSMax
)

// SetDNS sets one of the global DNS server slots (zero Addr clears it).
// An unspecified address (0.0.0.0, ::) is refused, as esp_netif does.
func (m *Manager) SetDNS(slot int, a netip.Addr) error {
	if slot < 0 || slot >= DNSMax {
		return newError(ErrInvalidParams, "", "set dns", errText("bad DNS slot"))
	}
	if a.IsUnspecified() {
		return newError(ErrInvalidParams, "", "set dns", errText("unspecified address"))
	}
	m.mu.Lock()
	m.dns[slot] = a
	m.mu.Unlock()
	return nil
}

// DNS returns one DNS server slot (invalid Addr when empty).
func (m *Manager) DNS(slot int) netip.Addr {
	if slot < 0 || slot >= DNSMax {
		return netip.Addr{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dns[slot]
}

// DNSServers returns the configured servers in slot order.
func (m *Manager) DNSServers() []netip.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []netip.Addr
	for _, a := range m.dns {
		if a.IsValid() && !a.IsUnspecified() {
			out = append(out, a)
		}
	}
	return out
}

// New creates an interface; it starts nothing.
func (m *Manager) New(cfg Config) (*Netif, error) {
	const op = "new"
	if cfg.Key == "" {
		return nil, newError(ErrInvalidParams, "", op, errText("empty if_key"))
	}
	if cfg.Flags&FlagDHCPClient != 0 && cfg.Flags&FlagDHCPServer != 0 {
		return nil, newError(ErrInvalidParams, cfg.Key, op, errText("DHCP client and server flags together"))
	}
	if len(cfg.NamePrefix) > 2 {
		return nil, newError(ErrInvalidParams, cfg.Key, op, errText("name prefix longer than two letters"))
	}
	if cfg.MAC != nil && len(cfg.MAC) != 6 {
		return nil, newError(ErrInvalidParams, cfg.Key, op, errText("MAC must have 6 bytes"))
	}
	if cfg.MTU != 0 && (cfg.MTU < minMTU || cfg.MTU > maxMTU) {
		// esp_netif ignores an out-of-range MTU and keeps the stack's.
		cfg.MTU = 0
	}
	n := &Netif{m: m, cfg: cfg, ip: cfg.IPInfo.normalized(), routePrio: cfg.RoutePrio,
		dhcpStatus: initialDHCPStatus(cfg.Flags)}
	if isZeroMAC(cfg.MAC) {
		n.cfg.MAC = nil
	} else {
		n.mac = tcpip.LinkAddress(cfg.MAC)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, other := range m.netifs {
		if other.cfg.Key == cfg.Key {
			return nil, newError(ErrInvalidParams, cfg.Key, op, errText("duplicate if_key"))
		}
	}
	m.netifs = append(m.netifs, n)
	return n, nil
}

// Destroy stops n if needed and forgets it.
func (m *Manager) Destroy(n *Netif) {
	if n == nil {
		return
	}
	_ = n.Stop()
	m.mu.Lock()
	if n.link != nil { // attached but never started: the link is still ours to close
		n.link.Close()
		n.link.Wait()
		n.link = nil
	}
	m.netifs = slices.DeleteFunc(m.netifs, func(x *Netif) bool { return x == n })
	if m.forcedDefault == n {
		m.forcedDefault = nil
	}
	m.updateRoutesLocked()
	m.mu.Unlock()
}

// List returns the interfaces in creation order.
func (m *Manager) List() []*Netif {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.netifs)
}

// ByKey finds an interface by key, or returns nil.
func (m *Manager) ByKey(key string) *Netif {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.netifs {
		if n.cfg.Key == key {
			return n
		}
	}
	return nil
}

// ByNIC finds the interface behind a gVisor NIC id, or returns nil.
func (m *Manager) ByNIC(id tcpip.NICID) *Netif {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.netifs {
		if n.nic == id && id != 0 {
			return n
		}
	}
	return nil
}

// InlineReader is a link a blocked caller may read itself
// (socket.InlineReceiver; a TAP endpoint with caller reads on).
type InlineReader interface {
	WaitFd() int
	DrainInline() int
}

// InlineReader returns the link of NIC id when it is an InlineReader
// (run-to-completion receive, GONETIF_TCP_RTC), else nil. Only a link
// without layers on it qualifies: a capture, loss or delay layer sits
// between the TAP and the stack.
func (m *Manager) InlineReader(id tcpip.NICID) InlineReader {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.netifs {
		if n.nic == id && id != 0 {
			if r, ok := n.link.(InlineReader); ok {
				return r
			}
			return nil
		}
	}
	return nil
}

// SetDefault forces the default interface; nil returns to route_prio.
func (m *Manager) SetDefault(n *Netif) {
	m.mu.Lock()
	m.forcedDefault = n
	m.updateRoutesLocked()
	m.mu.Unlock()
}

// Default returns the interface that holds the default route, or nil.
func (m *Manager) Default() *Netif {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.defaultLocked()
}

func (m *Manager) defaultLocked() *Netif {
	if d := m.forcedDefault; d != nil && d.state >= StateStarted {
		return d
	}
	var best *Netif
	for _, n := range m.netifs {
		if n.state != StateUp {
			continue
		}
		if best == nil || n.routePrio > best.routePrio {
			best = n
		}
	}
	if best == nil && m.forcedDefault != nil {
		return m.forcedDefault
	}
	return best
}

// updateRoutesLocked rebuilds gVisor's route table from interface state:
// on-link subnets first, then the default interface's gateway, then the
// other gateways by priority (they serve sockets bound to a device).
func (m *Manager) updateRoutesLocked() {
	subnets, defaults := m.loopbackRoutesLocked(), []tcpip.Route(nil)
	def := m.defaultLocked()
	byPrio := slices.Clone(m.netifs)
	slices.SortStableFunc(byPrio, func(a, b *Netif) int {
		switch {
		case a == def:
			return -1
		case b == def:
			return 1
		}
		return b.routePrio - a.routePrio
	})
	for _, n := range byPrio {
		if n.state != StateUp {
			continue
		}
		subnets = append(subnets, tcpip.Route{Destination: header.IPv6LinkLocalPrefix.Subnet(), NIC: n.nic})
		for _, r := range n.ip6Routes {
			route := tcpip.Route{Destination: r.dest, Gateway: r.router, NIC: n.nic}
			if r.dest.Prefix() == 0 {
				defaults = append(defaults, route)
			} else {
				subnets = append(subnets, route)
			}
		}
		if !n.ip.HasIP() {
			continue
		}
		if sub, ok := ipv4Subnet(n.ip); ok {
			subnets = append(subnets, tcpip.Route{Destination: sub, NIC: n.nic})
		}
		if gw := n.ip.Gateway; gw.IsValid() && !gw.IsUnspecified() {
			defaults = append(defaults, tcpip.Route{
				Destination: header.IPv4EmptySubnet,
				Gateway:     tcpip.AddrFrom4(gw.As4()),
				NIC:         n.nic,
			})
		}
	}
	m.stack.SetRouteTable(append(subnets, defaults...))
	m.changed()
}

func ipv4Subnet(info IPInfo) (tcpip.Subnet, bool) {
	mask := info.Netmask.As4()
	ones, _ := net.IPMask(mask[:]).Size()
	if ones == 0 {
		return tcpip.Subnet{}, false
	}
	prefix := netip.PrefixFrom(info.IP, ones).Masked()
	sub, err := tcpip.NewSubnet(tcpip.AddrFrom4(prefix.Addr().As4()), tcpip.MaskFromBytes(mask[:]))
	return sub, err == nil
}

// Attach binds a driver to the interface; Start then uses it.
func (n *Netif) Attach(link gvstack.LinkEndpoint) error {
	if link == nil {
		return newError(ErrInvalidParams, n.cfg.Key, "attach", errText("nil link"))
	}
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	if n.state != StateCreated {
		return newError(ErrInvalidState, n.cfg.Key, "attach", errText("interface already started"))
	}
	n.link = link
	return nil
}

// Link returns the attached driver, or nil.
func (n *Netif) Link() gvstack.LinkEndpoint {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	return n.link
}

// Start adds the interface to the stack with its static address; with
// FlagAutoUp it also brings it up.
func (n *Netif) Start() error {
	m := n.m
	m.mu.Lock()
	if n.state != StateCreated {
		m.mu.Unlock()
		return nil
	}
	if n.link == nil {
		m.mu.Unlock()
		return newError(ErrIfNotReady, n.cfg.Key, "start", errText("no driver attached"))
	}
	if n.mac != "" {
		n.link.SetLinkAddress(n.mac)
	} else {
		n.mac = n.link.LinkAddress()
	}
	if n.cfg.MTU != 0 {
		n.link.SetMTU(n.cfg.MTU)
	}
	id := m.nextNIC
	opts := gvstack.NICOptions{Name: n.cfg.Key, Disabled: true}
	// The NIC closes its queueing discipline when it goes away; a restart
	// makes a new one.
	if q := m.txQueueLen(); q > 0 {
		tq := &tcpTxQueue{link: n.link, udp: m.UDPQueue, received: m.stack.Stats().IP.PacketsReceived}
		var writer gvstack.LinkWriter = n.link
		if tq.udp { // only queued UDP frames need counting out
			writer = udpCounter{tq, n.link}
		}
		tq.queue = fifo.New(writer, 1, q)
		opts.QDisc = tq
	}
	if m.AckHold > 0 {
		next := opts.QDisc
		if next == nil {
			next = directQDisc{n.link}
		}
		opts.QDisc = newAckHold(next, m.AckHold)
	}
	n.qdisc = opts.QDisc
	if n.qdisc == nil {
		n.qdisc = directQDisc{n.link} // what gVisor does without one
	}
	m.changed()
	if err := m.stack.CreateNICWithOptions(id, n.link, opts); err != nil {
		m.mu.Unlock()
		return newError(ErrInitFailed, n.cfg.Key, "start", tcpipError{err})
	}
	m.nextNIC++
	n.nic = id
	n.state = StateStarted
	if err := n.applyIPLocked(n.ip); err != nil {
		_ = m.stack.RemoveNIC(id)
		n.nic, n.state = 0, StateCreated
		m.mu.Unlock()
		return err
	}
	m.mu.Unlock()
	if n.cfg.Flags&FlagAutoUp != 0 {
		return n.Up()
	}
	return nil
}

// Stop removes the interface from the stack and closes its driver; attach
// a new driver to start it again.
func (n *Netif) Stop() error {
	m := n.m
	m.mu.Lock()
	if n.state == StateCreated {
		m.mu.Unlock()
		return nil
	}
	if c := n.dhcpc; c != nil { // esp_netif_action_stop releases the lease
		n.dhcpc, n.dhcpStatus = nil, DHCPInit
		m.mu.Unlock()
		n.stopClient(c, true)
		m.mu.Lock()
		if n.state == StateCreated {
			m.mu.Unlock()
			return nil
		}
	}
	wasUp := n.state == StateUp
	// gVisor closes the link with the NIC: a restart needs a new attach.
	link := n.link
	m.changed()
	_ = m.stack.RemoveNIC(n.nic)
	n.nic, n.state, n.link, n.ip6Routes, n.ll6Reported, n.qdisc = 0, StateCreated, nil, nil, false, nil
	m.updateRoutesLocked()
	m.mu.Unlock()
	// gVisor closes the link without waiting for it; wait here (outside our
	// lock: its reader may be delivering a frame) so that the device, a
	// TAP, is free again when Stop returns.
	if link != nil {
		link.Wait()
	}
	if wasUp {
		m.emit(Event{Kind: EventNetifDown, Netif: n})
	}
	return nil
}

// Up enables the interface (admin and link up).
func (n *Netif) Up() error {
	m := n.m
	m.mu.Lock()
	switch n.state {
	case StateCreated:
		m.mu.Unlock()
		return newError(ErrIfNotReady, n.cfg.Key, "up", errText("not started"))
	case StateUp:
		m.mu.Unlock()
		return nil
	}
	if err := m.stack.EnableNIC(n.nic); err != nil {
		m.mu.Unlock()
		return newError(ErrIfNotReady, n.cfg.Key, "up", tcpipError{err})
	}
	n.state = StateUp
	m.changed()
	m.updateRoutesLocked()
	n.announceLocked()
	m.mu.Unlock()
	m.emit(Event{Kind: EventNetifUp, Netif: n})
	return nil
}

// Down disables the interface; addresses stay configured.
func (n *Netif) Down() error {
	m := n.m
	m.mu.Lock()
	if n.state != StateUp {
		m.mu.Unlock()
		return nil
	}
	m.changed()
	_ = m.stack.DisableNIC(n.nic)
	n.state = StateStarted
	m.updateRoutesLocked()
	m.mu.Unlock()
	m.emit(Event{Kind: EventNetifDown, Netif: n})
	return nil
}

// Connected is esp_netif_action_connected for a static interface: apply
// the stored address, bring the interface up and report it.
// With a DHCP client waiting (status INIT) it starts the client instead.
func (n *Netif) Connected() error {
	if err := n.Up(); err != nil {
		return err
	}
	m := n.m
	m.mu.Lock()
	n.stopLostTimerLocked()
	info, status := n.ip, n.dhcpStatus
	var err error
	if status == DHCPInit && n.cfg.Flags&FlagDHCPClient != 0 {
		err = n.startDHCPLocked()
	} else if status == DHCPStopped && info.HasIP() {
		err = n.applyIPLocked(info) // Disconnected took it off the stack
	}
	m.mu.Unlock()
	if status == DHCPStopped && info.HasIP() {
		m.emit(Event{Kind: EventGotIP, Netif: n, IPInfo: info, Changed: true})
	}
	return err
}

// Disconnected is esp_netif_action_disconnected: take the interface down
// and drop its addresses from the stack (the stored copy is kept).
func (n *Netif) Disconnected() error {
	n.m.mu.Lock()
	if c := n.dhcpc; c != nil { // the client waits for the next connect
		n.dhcpc, n.dhcpStatus = nil, DHCPInit
		n.m.mu.Unlock()
		n.stopClient(c, false)
		n.m.mu.Lock()
	}
	if n.state != StateCreated {
		n.removeIPLocked()
	}
	n.startLostTimerLocked()
	n.m.mu.Unlock()
	return n.Down()
}

// DefaultLostIPDelay is IDF's CONFIG_ESP_NETIF_IP_LOST_TIMER_INTERVAL.
const DefaultLostIPDelay = 120 * time.Second

// startLostTimerLocked arms IDF's lost-IP timer: unless the interface is
// up with an address again when it fires, lost-IP is raised.
func (n *Netif) startLostTimerLocked() {
	n.stopLostTimerLocked()
	m := n.m
	delay := m.LostIPDelay
	if delay <= 0 {
		delay = DefaultLostIPDelay
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		m.mu.Lock()
		if n.lostTimer != t {
			m.mu.Unlock()
			return
		}
		n.lostTimer = nil
		lost := n.state != StateUp || !n.stackHasIPLocked()
		m.mu.Unlock()
		if lost {
			m.emit(Event{Kind: EventLostIP, Netif: n})
		}
	})
	n.lostTimer = t
}

func (n *Netif) stopLostTimerLocked() {
	if n.lostTimer != nil {
		n.lostTimer.Stop()
		n.lostTimer = nil
	}
}

func (n *Netif) stackHasIPLocked() bool {
	if n.nic == 0 {
		return false
	}
	a, err := n.m.stack.GetMainNICAddress(n.nic, ipv4.ProtocolNumber)
	return err == nil && a.Address.Len() != 0 && a.Address != header.IPv4Any
}

// State returns the life-cycle state.
func (n *Netif) State() State {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	return n.state
}

// IsUp reports whether the interface is administratively up.
func (n *Netif) IsUp() bool { return n.State() == StateUp }

// NICID returns the gVisor NIC id, 0 when not started.
func (n *Netif) NICID() tcpip.NICID {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	return n.nic
}

// IPInfo returns the current IPv4 configuration.
func (n *Netif) IPInfo() IPInfo {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	return n.ip
}

// SetIPInfo replaces the IPv4 configuration. It fails with
// ErrDHCPNotStopped while a DHCP client owns the address.
func (n *Netif) SetIPInfo(info IPInfo) error {
	info = info.normalized()
	if !info.IP.Is4() || !info.Netmask.Is4() || !info.Gateway.Is4() {
		return newError(ErrInvalidParams, n.cfg.Key, "set ip info", errText("not IPv4 addresses"))
	}
	m := n.m
	m.mu.Lock()
	if n.cfg.Flags&FlagDHCPClient != 0 && n.dhcpStatus != DHCPStopped {
		m.mu.Unlock()
		return newError(ErrDHCPNotStopped, n.cfg.Key, "set ip info", nil)
	}
	old := n.ip
	if n.state != StateCreated {
		if err := n.applyIPLocked(info); err != nil {
			m.mu.Unlock()
			return err
		}
	} else {
		n.ip = info
	}
	up := n.state == StateUp
	m.mu.Unlock()
	if up && info.HasIP() && n.cfg.Flags&FlagEventIPModified != 0 {
		m.emit(Event{Kind: EventGotIP, Netif: n, IPInfo: info, Changed: info != old})
	}
	return nil
}

func (n *Netif) applyIPLocked(info IPInfo) error {
	n.removeIPLocked()
	n.ip = info
	if info.HasIP() {
		mask := info.Netmask.As4()
		ones, _ := net.IPMask(mask[:]).Size()
		addr := tcpip.ProtocolAddress{
			Protocol:          ipv4.ProtocolNumber,
			AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(info.IP.As4()), PrefixLen: ones},
		}
		if err := n.m.stack.AddProtocolAddress(n.nic, addr, gvstack.AddressProperties{}); err != nil {
			return newError(ErrInvalidParams, n.cfg.Key, "set ip info", tcpipError{err})
		}
		n.announceLocked()
	}
	n.m.updateRoutesLocked()
	return nil
}

// announceLocked sends a gratuitous ARP for the IPv4 address, as lwIP does
// on every address change: peers that tried the address before (a DHCP
// server's ping check) would otherwise keep a failed neighbour entry.
func (n *Netif) announceLocked() {
	if n.state != StateUp || !n.ip.HasIP() {
		return
	}
	ep, err := n.m.stack.GetNetworkEndpoint(n.nic, arp.ProtocolNumber)
	if err != nil {
		return
	}
	if r, ok := ep.(gvstack.LinkAddressResolver); ok {
		a := tcpip.AddrFrom4(n.ip.IP.As4())
		_ = r.LinkAddressRequest(a, a, "")
	}
}

func (n *Netif) removeIPLocked() {
	if n.nic == 0 {
		return
	}
	if prev, err := n.m.stack.GetMainNICAddress(n.nic, ipv4.ProtocolNumber); err == nil && prev.Address.Len() != 0 {
		_ = n.m.stack.RemoveAddress(n.nic, prev.Address)
	}
}

// MAC returns the interface's hardware address (the driver's until started
// if none was configured).
func (n *Netif) MAC() net.HardwareAddr {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	mac := n.mac
	if mac == "" && n.link != nil {
		mac = n.link.LinkAddress()
	}
	return net.HardwareAddr(mac)
}

// SetMAC changes the hardware address.
func (n *Netif) SetMAC(mac net.HardwareAddr) error {
	if len(mac) != 6 || isZeroMAC(mac) {
		return newError(ErrInvalidParams, n.cfg.Key, "set mac", errText("need 6 non-zero bytes"))
	}
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	n.mac = tcpip.LinkAddress(mac)
	n.m.changed()
	if n.nic != 0 {
		if err := n.m.stack.SetNICAddress(n.nic, n.mac); err != nil {
			return newError(ErrIfNotReady, n.cfg.Key, "set mac", tcpipError{err})
		}
	}
	return nil
}

// Hostname returns the host name used by DHCP.
func (n *Netif) Hostname() string {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	return n.hostname
}

// SetHostname sets the host name used by DHCP.
func (n *Netif) SetHostname(name string) error {
	if len(name) > 255 {
		return newError(ErrInvalidParams, n.cfg.Key, "set hostname", errText("longer than 255 bytes"))
	}
	n.m.mu.Lock()
	n.hostname = name
	n.m.mu.Unlock()
	return nil
}

// RoutePrio returns the route priority.
func (n *Netif) RoutePrio() int {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	return n.routePrio
}

// SetRoutePrio changes the route priority and re-evaluates the default.
func (n *Netif) SetRoutePrio(prio int) {
	n.m.mu.Lock()
	n.routePrio = prio
	n.m.updateRoutesLocked()
	n.m.mu.Unlock()
}

// MTU returns the link MTU (0 before a driver is attached).
func (n *Netif) MTU() uint32 {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	if n.link == nil {
		return n.cfg.MTU
	}
	return n.link.MTU()
}

// SetMTU changes the link MTU.
func (n *Netif) SetMTU(mtu uint32) error {
	if mtu < minMTU || mtu > maxMTU {
		return newError(ErrInvalidParams, n.cfg.Key, "set mtu", errText("out of range 20..9000"))
	}
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	n.cfg.MTU = mtu
	n.m.changed()
	if n.nic != 0 {
		if err := n.m.stack.SetNICMTU(n.nic, mtu); err != nil {
			return newError(ErrInvalidParams, n.cfg.Key, "set mtu", tcpipError{err})
		}
	} else if n.link != nil {
		n.link.SetMTU(mtu)
	}
	return nil
}

func isZeroMAC(mac net.HardwareAddr) bool {
	for _, b := range mac {
		if b != 0 {
			return false
		}
	}
	return true
}

type errText string

func (e errText) Error() string { return string(e) }

type tcpipError struct{ err tcpip.Error }

func (e tcpipError) Error() string { return e.err.String() }
