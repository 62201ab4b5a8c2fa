package netif

import (
	"strconv"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Interface names, as esp_netif and the socket API see them. An interface
// is named once started, lwIP's way: its two-letter prefix and its index
// less one ("tp0" for the first TAP interface). Lookups by name accept that
// name or the interface key ("TAP"); SO_BINDTODEVICE and if_nametoindex
// both go through IndexByName, so they accept the same names. The
// loopback interface has no name. Every lookup holds the manager's lock,
// so an interface being destroyed meanwhile is either found whole or not
// at all.

// DefaultNamePrefix is the name prefix of an interface whose Config has
// none (lwIP's for Ethernet drivers).
const DefaultNamePrefix = "en"

// maxNameLen is IF_NAMESIZE less the terminating NUL.
const maxNameLen = 15

func (n *Netif) nameLocked() string {
	if n.nic == 0 {
		return ""
	}
	prefix := n.cfg.NamePrefix
	if prefix == "" {
		prefix = DefaultNamePrefix
	}
	return prefix + strconv.Itoa(int(n.nic-1)%1000)
}

// Name returns the interface's name, or an ErrIfNotReady error before it
// is started.
func (n *Netif) Name() (string, error) {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	if name := n.nameLocked(); name != "" {
		return name, nil
	}
	return "", newError(ErrIfNotReady, n.cfg.Key, "name", errText("not started"))
}

// IndexByName returns the index of the started interface with that name or
// key; an ErrNotFound error when there is none.
func (m *Manager) IndexByName(name string) (tcpip.NICID, error) {
	if name == "" || len(name) > maxNameLen {
		return 0, newError(ErrNotFound, "", "index of "+strconv.Quote(name), errText("no such interface"))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.netifs {
		if n.nic != 0 && (n.nameLocked() == name || n.cfg.Key == name) {
			return n.nic, nil
		}
	}
	return 0, newError(ErrNotFound, "", "index of "+strconv.Quote(name), errText("no such interface"))
}

// NameByIndex returns the name of the interface with that index; an
// ErrNotFound error when there is none.
func (m *Manager) NameByIndex(index tcpip.NICID) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.netifs {
		if index != 0 && n.nic == index {
			return n.nameLocked(), nil
		}
	}
	return "", newError(ErrNotFound, "", "name of index "+strconv.Itoa(int(index)), errText("no such interface"))
}

// DeviceNames answers a socket's SO_BINDTODEVICE from the manager's
// interface names (what socket.DeviceNames asks), so C and Go name
// interfaces the same way.
type DeviceNames struct{ M *Manager }

// Index returns the NIC of name (an interface name or an if_key).
func (d DeviceNames) Index(name string) (int, bool) {
	id, err := d.M.IndexByName(name)
	return int(id), err == nil
}

// Name returns the interface name of NIC index.
func (d DeviceNames) Name(index int) (string, bool) {
	if index <= 0 {
		return "", false
	}
	name, err := d.M.NameByIndex(tcpip.NICID(index))
	return name, err == nil
}
