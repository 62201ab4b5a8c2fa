package netif

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"gonetif.dev/gonetif/dhcp"
)

// DHCPStatus mirrors esp_netif_dhcp_status_t.
type DHCPStatus int

// DHCP client states as esp_netif reports them.
const (
	DHCPInit    DHCPStatus = iota // will start when the interface connects
	DHCPStarted                   // running
	DHCPStopped                   // off: the address is static
)

// MaxDHCPOptionLen is the most a DHCP option can carry (its length is
// one byte).
const MaxDHCPOptionLen = 255

// DHCPOptions are the client settings esp_netif_dhcpc_option changes.
type DHCPOptions struct {
	RetryTime   time.Duration // first retransmission delay
	VendorClass string
	Requested   netip.Addr // address to ask for first
}

func initialDHCPStatus(f Flags) DHCPStatus {
	if f&FlagDHCPClient != 0 {
		return DHCPInit
	}
	return DHCPStopped
}

// DHCPStatus returns the client state.
func (n *Netif) DHCPStatus() DHCPStatus {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	return n.dhcpStatus
}

// DHCPClientState returns the RFC 2131 state of a running client.
func (n *Netif) DHCPClientState() (dhcp.State, bool) {
	n.m.mu.Lock()
	c := n.dhcpc
	n.m.mu.Unlock()
	if c == nil {
		return dhcp.StateStopped, false
	}
	return c.State(), true
}

// DHCPOptions returns the client settings.
func (n *Netif) DHCPOptions() DHCPOptions {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	return n.dhcpOpts
}

// SetDHCPOptions changes the client settings; refused while it runs.
func (n *Netif) SetDHCPOptions(o DHCPOptions) error {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	if n.dhcpStatus == DHCPStarted {
		return newError(ErrDHCPAlreadyStarted, n.cfg.Key, "dhcpc option", nil)
	}
	if len(o.VendorClass) > MaxDHCPOptionLen {
		return newError(ErrInvalidParams, n.cfg.Key, "dhcpc option",
			errText(fmt.Sprintf("vendor class of %d bytes: a DHCP option holds at most %d", len(o.VendorClass), MaxDHCPOptionLen)))
	}
	n.dhcpOpts = o
	return nil
}

// DHCPStart is esp_netif_dhcpc_start: run the client now if the interface
// is up, else when it connects.
func (n *Netif) DHCPStart() error {
	const op = "dhcpc start"
	if n.cfg.Flags&FlagDHCPClient == 0 || n.cfg.Flags&FlagIsPPP != 0 {
		return newError(ErrInvalidArg, n.cfg.Key, op, errText("not a DHCP client interface"))
	}
	m := n.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if n.dhcpStatus == DHCPStarted {
		return newError(ErrDHCPAlreadyStarted, n.cfg.Key, op, nil)
	}
	if n.state != StateUp {
		n.dhcpStatus = DHCPInit
		return nil
	}
	return n.startDHCPLocked()
}

func (n *Netif) startDHCPLocked() error {
	const op = "dhcpc start"
	// The client owns the address from now on.
	n.removeIPLocked()
	n.ip = IPInfo{}.normalized()
	n.m.updateRoutesLocked()
	tr, err := dhcp.NewNICTransport(n.m.stack, n.nic)
	if err != nil {
		return newError(ErrDHCPStartFailed, n.cfg.Key, op, err)
	}
	mac := n.mac
	if mac == "" && n.link != nil {
		mac = n.link.LinkAddress()
	}
	c, err := dhcp.Start(dhcp.Config{
		MAC:         []byte(mac),
		Hostname:    n.hostname,
		VendorClass: n.dhcpOpts.VendorClass,
		Requested:   n.dhcpOpts.Requested,
		RetryBase:   n.dhcpOpts.RetryTime,
		Bound:       n.dhcpBound,
		Lost:        n.dhcpLost,
		Logf:        n.m.logf(n.cfg.Key + ": dhcp: "),
	}, tr)
	if err != nil {
		tr.Close()
		return newError(ErrDHCPStartFailed, n.cfg.Key, op, err)
	}
	n.dhcpc = c
	n.dhcpStatus = DHCPStarted
	return nil
}

// DHCPStop is esp_netif_dhcpc_stop: release the lease and clear the
// address; a static address may then be set.
func (n *Netif) DHCPStop() error {
	const op = "dhcpc stop"
	if n.cfg.Flags&FlagIsPPP != 0 {
		return newError(ErrInvalidArg, n.cfg.Key, op, nil)
	}
	m := n.m
	m.mu.Lock()
	if n.dhcpStatus == DHCPStopped {
		m.mu.Unlock()
		return newError(ErrDHCPAlreadyStopped, n.cfg.Key, op, nil)
	}
	if n.state == StateCreated {
		m.mu.Unlock()
		return newError(ErrIfNotReady, n.cfg.Key, op, nil)
	}
	c := n.dhcpc
	n.dhcpc = nil
	n.dhcpStatus = DHCPStopped
	m.mu.Unlock()
	n.stopClient(c, true)
	return nil
}

// stopClient stops c outside the lock (its callbacks take it) and drops
// the address it had set.
func (n *Netif) stopClient(c *dhcp.Client, release bool) {
	if c == nil {
		return
	}
	c.Stop(release)
	m := n.m
	m.mu.Lock()
	if n.state != StateCreated {
		n.removeIPLocked()
	}
	n.ip = IPInfo{}.normalized()
	m.updateRoutesLocked()
	m.mu.Unlock()
}

func (n *Netif) dhcpBound(l dhcp.Lease) {
	m := n.m
	info := IPInfo{IP: l.IP, Netmask: l.Netmask, Gateway: l.Router}.normalized()
	m.mu.Lock()
	if n.dhcpc == nil || n.state == StateCreated {
		m.mu.Unlock()
		return
	}
	old := n.ip
	n.stopLostTimerLocked()
	err := n.applyIPLocked(info)
	if err == nil {
		for i, d := range l.DNS {
			if i < 2 { // MAIN and BACKUP, as lwIP's DHCP fills them
				m.dns[i] = d
			}
		}
	}
	m.mu.Unlock()
	if err != nil {
		m.logf(n.cfg.Key+": ")("%v", err)
		return
	}
	m.emit(Event{Kind: EventGotIP, Netif: n, IPInfo: info, Changed: info != old})
}

func (n *Netif) dhcpLost() {
	m := n.m
	m.mu.Lock()
	if n.dhcpc == nil {
		m.mu.Unlock()
		return
	}
	if n.state != StateCreated {
		n.removeIPLocked()
	}
	n.ip = IPInfo{}.normalized()
	m.updateRoutesLocked()
	m.mu.Unlock()
	m.emit(Event{Kind: EventLostIP, Netif: n})
}

// The option ids esp_netif_dhcpc_option understands (esp_netif_dhcp_option_id_t).
const (
	DHCPOptRequestedIP = 50 // ESP_NETIF_REQUESTED_IP_ADDRESS: 4 bytes, network order
	DHCPOptRetryTime   = 52 // ESP_NETIF_IP_REQUEST_RETRY_TIME: uint32 seconds, host order
	DHCPOptVendorClass = 60 // ESP_NETIF_VENDOR_CLASS_IDENTIFIER: a string
)

// DHCPOptionGet is esp_netif_dhcpc_option's get: option opt into the
// caller's buf (its whole length; a string gets its NUL), in IDF's
// layout. A buffer too small, or an unknown id, is ErrInvalidParams.
func (n *Netif) DHCPOptionGet(opt int, buf []byte) error {
	const op = "dhcpc option get"
	o := n.DHCPOptions()
	need := 4
	if opt == DHCPOptVendorClass {
		need = len(o.VendorClass) + 1
	}
	if opt != DHCPOptRetryTime && opt != DHCPOptRequestedIP && opt != DHCPOptVendorClass {
		return newError(ErrInvalidParams, n.cfg.Key, op, errText(fmt.Sprintf("unknown option %d", opt)))
	}
	if len(buf) < need {
		return newError(ErrInvalidParams, n.cfg.Key, op,
			errText(fmt.Sprintf("option %d needs %d bytes, the buffer has %d", opt, need, len(buf))))
	}
	switch opt {
	case DHCPOptRetryTime:
		binary.NativeEndian.PutUint32(buf, uint32(o.RetryTime/time.Second))
	case DHCPOptRequestedIP:
		a := [4]byte{}
		if o.Requested.Is4() {
			a = o.Requested.As4()
		}
		copy(buf, a[:])
	case DHCPOptVendorClass:
		buf[copy(buf, o.VendorClass)] = 0
	}
	return nil
}

// DHCPOptionSet is esp_netif_dhcpc_option's set: val holds the caller's
// bytes, claimed their length as given (val is never longer than a DHCP
// option and its NUL, so a longer claim is refused unread). Numbers are
// exactly 4 bytes; a string ends at its first NUL.
func (n *Netif) DHCPOptionSet(opt int, val []byte, claimed uint32) error {
	const op = "dhcpc option set"
	if claimed > MaxDHCPOptionLen+1 {
		return newError(ErrInvalidParams, n.cfg.Key, op,
			errText(fmt.Sprintf("length %d is more than a DHCP option holds (%d)", claimed, MaxDHCPOptionLen)))
	}
	val = val[:min(len(val), int(claimed))]
	o := n.DHCPOptions()
	switch opt {
	case DHCPOptRetryTime, DHCPOptRequestedIP:
		if len(val) != 4 {
			return newError(ErrInvalidParams, n.cfg.Key, op, errText(fmt.Sprintf("option %d takes 4 bytes, not %d", opt, len(val))))
		}
		if opt == DHCPOptRetryTime {
			o.RetryTime = time.Duration(binary.NativeEndian.Uint32(val)) * time.Second
		} else {
			o.Requested = netip.AddrFrom4([4]byte(val))
		}
	case DHCPOptVendorClass:
		if i := bytes.IndexByte(val, 0); i >= 0 {
			val = val[:i]
		}
		o.VendorClass = string(val)
	default:
		return newError(ErrInvalidParams, n.cfg.Key, op, errText(fmt.Sprintf("unknown option %d", opt)))
	}
	return n.SetDHCPOptions(o)
}

// DHCPClientStatus is esp_netif_dhcpc_get_status: the client state, or
// ErrInvalidArg for a DHCP server or PPP interface, which has none.
func (n *Netif) DHCPClientStatus() (DHCPStatus, error) {
	if n.cfg.Flags&(FlagDHCPServer|FlagIsPPP) != 0 {
		return 0, newError(ErrInvalidArg, n.cfg.Key, "dhcpc get status", errText("a DHCP server or PPP interface has no DHCP client"))
	}
	return n.DHCPStatus(), nil
}

// gonetif has no DHCP server: esp_netif's server calls report one that
// is stopped and cannot start.

// DHCPServerStatus is esp_netif_dhcps_get_status: always stopped, or
// ErrInvalidArg for a DHCP client or PPP interface.
func (n *Netif) DHCPServerStatus() (DHCPStatus, error) {
	if n.cfg.Flags&(FlagDHCPClient|FlagIsPPP) != 0 {
		return 0, newError(ErrInvalidArg, n.cfg.Key, "dhcps get status", errText("a DHCP client or PPP interface has no DHCP server"))
	}
	return DHCPStopped, nil
}

// DHCPServerStart is esp_netif_dhcps_start: ErrNotSupported.
func (n *Netif) DHCPServerStart() error {
	return newError(ErrNotSupported, n.cfg.Key, "dhcps start", errText("gonetif has no DHCP server"))
}

// DHCPServerStop is esp_netif_dhcps_stop: ErrDHCPAlreadyStopped, as
// for a server that never ran.
func (n *Netif) DHCPServerStop() error {
	return newError(ErrDHCPAlreadyStopped, n.cfg.Key, "dhcps stop", nil)
}

// DHCPServerOption is esp_netif_dhcps_option: ErrNotSupported.
func (n *Netif) DHCPServerOption() error {
	return newError(ErrNotSupported, n.cfg.Key, "dhcps option", errText("gonetif has no DHCP server"))
}
