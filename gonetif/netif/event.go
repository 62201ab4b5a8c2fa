package netif

import "net/netip"

// EventKind says what happened to an interface.
type EventKind int

// Event kinds, matching IDF's IP events.
const (
	EventGotIP EventKind = iota + 1
	EventLostIP
	EventGotIP6
	EventNetifUp
	EventNetifDown
)

func (k EventKind) String() string {
	switch k {
	case EventGotIP:
		return "got-ip"
	case EventLostIP:
		return "lost-ip"
	case EventGotIP6:
		return "got-ip6"
	case EventNetifUp:
		return "netif-up"
	case EventNetifDown:
		return "netif-down"
	}
	return "unknown"
}

// Event is one IP event. For got-ip, ID is the interface's GotIPEvent.
type Event struct {
	Kind    EventKind
	Netif   *Netif
	IPInfo  IPInfo
	Changed bool
	// For got-ip6: the address and its slot among the interface's IPv6
	// addresses.
	IP6      netip.Addr
	IP6Index int
}

// ID returns the event id an esp_event handler sees for e: the interface's
// own got/lost-IP ids, or IDF's fixed ids for the others.
func (e Event) ID() int32 {
	switch e.Kind {
	case EventGotIP:
		return e.Netif.cfg.GotIPEvent
	case EventLostIP:
		return e.Netif.cfg.LostIPEvent
	case EventGotIP6:
		return 3
	case EventNetifUp:
		return 9
	case EventNetifDown:
		return 10
	}
	return -1
}

// Posted reports whether esp_event is told of e: a lost-IP event only
// with an id of its own (0 would read as IP_EVENT_STA_GOT_IP).
func (e Event) Posted() bool {
	return e.Kind != EventLostIP || e.ID() != 0
}

// IP6Zone is the scope a got-ip6 event gives its address: the
// interface's index for a link-local one, else 0.
func (e Event) IP6Zone() int { return e.Netif.ip6Zone(e.IP6) }

func (m *Manager) emit(e Event) {
	m.mu.Lock()
	fn := m.onEvent
	m.mu.Unlock()
	if fn != nil {
		fn(e)
	}
}
