package main

/*
#include <stdint.h>
#include <string.h>
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif/link/driver"
	"gonetif.dev/gonetif/link/tap"
	"gonetif.dev/gonetif/netif"
	"gonetif.dev/gonetif/tapio"
)

// cNetif is what a C esp_netif_t stands for on the Go side.
type cNetif struct {
	n      *netif.Netif
	cookie unsafe.Pointer // the C esp_netif_t, passed back in callbacks
	tap    *tapio.Driver  // set when our TAP driver is attached
	tapID  int            // its link handle, for tapio_output
	// The C driver's link, kept here so esp_netif_receive does not look
	// it up (under the manager's lock) for every frame.
	drv atomic.Pointer[driver.Endpoint]
}

var (
	netifs handles[*cNetif]
	links  handles[*tapio.Driver]
)

func lookupNetif(id C.int) (*cNetif, C.int) {
	cn, ok := netifs.get(int(id))
	if !ok {
		logf(logError, "unknown esp_netif handle %d", int(id))
		return nil, netifInvalidParams
	}
	return cn, espOK
}

// onNetif runs op on the interface of handle id: its esp_err_t, or
// badHandle (the code IDF's call gives a bad handle) when there is none.
func onNetif(id, badHandle C.int, op func(*netif.Netif) error) C.int {
	cn, _ := lookupNetif(id)
	if cn == nil {
		return badHandle
	}
	return espErr(op(cn.n))
}

// ip4 converts an esp_ip4_addr_t value (network order in memory).
func ip4(v C.uint32_t) netip.Addr {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(v))
	return netip.AddrFrom4(b)
}

func ip4Value(a netip.Addr) C.uint32_t {
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return C.uint32_t(binary.NativeEndian.Uint32(b[:]))
}

func goMAC(p *C.uint8_t) net.HardwareAddr {
	if p == nil {
		return nil
	}
	return net.HardwareAddr(C.GoBytes(unsafe.Pointer(p), 6))
}

//export gonetif_netif_new
func gonetif_netif_new(cookie unsafe.Pointer, key, desc, namePrefix *C.char, flags C.uint32_t, mac *C.uint8_t,
	ip, mask, gw C.uint32_t, prio C.int, mtu C.int, gotIP, lostIP C.uint32_t) C.int {
	s, err := ensureStack()
	if err != nil {
		return -espErr(err)
	}
	cfg := netif.Config{
		Key:         goString(key),
		Desc:        goString(desc),
		Flags:       netif.Flags(flags),
		MAC:         goMAC(mac),
		IPInfo:      netif.IPInfo{IP: ip4(ip), Netmask: ip4(mask), Gateway: ip4(gw)},
		RoutePrio:   int(prio),
		MTU:         uint32(max(int(mtu), 0)),
		GotIPEvent:  int32(gotIP),
		LostIPEvent: int32(lostIP),
		NamePrefix:  goString(namePrefix),
	}
	n, err := s.Netifs.New(cfg)
	if err != nil {
		return -espErr(err)
	}
	return C.int(netifs.add(&cNetif{n: n, cookie: cookie}))
}

//export gonetif_netif_destroy
func gonetif_netif_destroy(id C.int) {
	cn, ok := netifs.remove(int(id))
	if !ok {
		return
	}
	theStack.RemoveInterface(cn.n)
}

//export gonetif_netif_attach_link
func gonetif_netif_attach_link(id, link C.int) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	d, ok := links.remove(int(link))
	if !ok {
		logf(logError, "unknown TAP driver handle %d (already attached?)", int(link))
		return netifAttachFailed
	}
	if err := cn.n.Attach(d.Link()); err != nil {
		d.Close()
		return espErr(err)
	}
	cn.tap, cn.tapID = d, int(link)
	return espOK
}

//export gonetif_netif_attach_driver
func gonetif_netif_attach_driver(id C.int) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	cookie := cn.cookie
	ep := driver.New(driver.Options{
		MAC: tcpip.LinkAddress(defaultDriverMAC(cn.n)),
		MTU: cn.n.Config().MTU,
		Transmit: func(frame []byte) error {
			if rc := driverTransmit(cookie, frame); rc != espOK {
				return txError(rc)
			}
			return nil
		},
	})
	if err := cn.n.Attach(ep); err != nil {
		return espErr(err)
	}
	cn.drv.Store(ep)
	return espOK
}

// defaultDriverMAC is the MAC a C driver's interface starts with when its
// config gave none: tapif_io's, so captures look the same as with lwIP.
func defaultDriverMAC(n *netif.Netif) []byte {
	if mac := n.Config().MAC; mac != nil {
		return mac
	}
	return tapio.DefaultMAC
}

type txError C.int

func (e txError) Error() string { return "driver transmit failed" }

//export gonetif_netif_has_link
func gonetif_netif_has_link(id C.int) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return -rc
	}
	if cn.n.Link() != nil {
		return 1
	}
	return 0
}

//export gonetif_netif_start
func gonetif_netif_start(id C.int) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	return espErr(cn.n.Start())
}

//export gonetif_netif_stop
func gonetif_netif_stop(id C.int) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	cn.tap, cn.tapID = nil, 0 // closed with the NIC
	cn.drv.Store(nil)
	return espErr(theStack.StopInterface(cn.n))
}

//export gonetif_netif_up
func gonetif_netif_up(id C.int) C.int {
	return onNetif(id, netifInvalidParams, (*netif.Netif).Up)
}

//export gonetif_netif_down
func gonetif_netif_down(id C.int) C.int {
	return onNetif(id, netifInvalidParams, (*netif.Netif).Down)
}

//export gonetif_netif_connected
func gonetif_netif_connected(id C.int) C.int {
	return onNetif(id, netifInvalidParams, (*netif.Netif).Connected)
}

//export gonetif_netif_disconnected
func gonetif_netif_disconnected(id C.int) C.int {
	return onNetif(id, netifInvalidParams, (*netif.Netif).Disconnected)
}

//export gonetif_netif_receive
func gonetif_netif_receive(id C.int, frame unsafe.Pointer, n C.size_t) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	if frame == nil || n == 0 {
		logf(logWarn, "%s: empty frame received", cn.n.Key())
		return espErrInvalidArg
	}
	ep := cn.drv.Load()
	if ep == nil {
		logf(logError, "%s: esp_netif_receive on an interface without a C driver", cn.n.Key())
		return netifIfNotReady
	}
	if !ep.Receive(unsafe.Slice((*byte)(frame), int(n))) {
		logf(logDebug, "%s: dropped received frame of %d bytes", cn.n.Key(), int(n))
	}
	return espOK
}

//export gonetif_netif_transmit_link
func gonetif_netif_transmit_link(id C.int, frame unsafe.Pointer, n C.size_t) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	if cn.tap == nil {
		return netifIfNotReady
	}
	return writeFrame(cn.tap, frame, n)
}

//export gonetif_tap_write
func gonetif_tap_write(link C.int, frame unsafe.Pointer, n C.size_t) C.int {
	if d, ok := links.get(int(link)); ok {
		return writeFrame(d, frame, n)
	}
	if id := netifs.find(func(cn *cNetif) bool { return cn.tap != nil && cn.tapID == int(link) }); id != 0 {
		cn, _ := netifs.get(id)
		return writeFrame(cn.tap, frame, n)
	}
	logf(logError, "tapio_output: unknown TAP driver")
	return espErrInvalidArg
}

func writeFrame(d *tapio.Driver, frame unsafe.Pointer, n C.size_t) C.int {
	if frame == nil || n == 0 {
		return espErrInvalidArg
	}
	// Bounded before the slice is made: n comes from the caller.
	if n > 1<<20 {
		n = 1 << 20
	}
	if err := d.WriteFrame(unsafe.Slice((*byte)(frame), int(n))); err != nil {
		logf(logWarn, "tapio_output on %s: %v", d.Tap().Name(), err)
		if errors.Is(err, tap.ErrFrameSize) {
			return espErrInvalidArg
		}
		return espFail
	}
	return espOK
}

//export gonetif_netif_is_up
func gonetif_netif_is_up(id C.int) C.int {
	cn, ok := netifs.get(int(id))
	if ok && cn.n.IsUp() {
		return 1
	}
	return 0
}

//export gonetif_netif_get_ip_info
func gonetif_netif_get_ip_info(id C.int, ip, mask, gw *C.uint32_t) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	info := cn.n.IPInfo()
	*ip, *mask, *gw = ip4Value(info.IP), ip4Value(info.Netmask), ip4Value(info.Gateway)
	return espOK
}

//export gonetif_netif_set_ip_info
func gonetif_netif_set_ip_info(id C.int, ip, mask, gw C.uint32_t) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	return espErr(cn.n.SetIPInfo(netif.IPInfo{IP: ip4(ip), Netmask: ip4(mask), Gateway: ip4(gw)}))
}

//export gonetif_netif_get_mac
func gonetif_netif_get_mac(id C.int, mac *C.uint8_t) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	hw := cn.n.MAC()
	if len(hw) != 6 {
		return netifIfNotReady
	}
	C.memcpy(unsafe.Pointer(mac), unsafe.Pointer(&hw[0]), 6)
	return espOK
}

//export gonetif_netif_set_mac
func gonetif_netif_set_mac(id C.int, mac *C.uint8_t) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	return espErr(cn.n.SetMAC(goMAC(mac)))
}

//export gonetif_netif_set_hostname
func gonetif_netif_set_hostname(id C.int, name *C.char) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	return espErr(cn.n.SetHostname(C.GoString(name)))
}

//export gonetif_netif_impl_index
func gonetif_netif_impl_index(id C.int) C.int {
	cn, ok := netifs.get(int(id))
	if !ok {
		return -1
	}
	return C.int(cn.n.NICID())
}

//export gonetif_netif_impl_name
func gonetif_netif_impl_name(id C.int, buf *C.char, n C.int) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	name, err := cn.n.Name()
	if err != nil {
		return espErr(err)
	}
	if !putCString(buf, n, name) {
		return espErr(&netif.Error{Code: netif.ErrInvalidParams, Key: cn.n.Key(), Op: "impl name", Err: errNameBuffer})
	}
	return espOK
}

//export gonetif_if_nametoindex
func gonetif_if_nametoindex(name *C.char) C.int {
	s, err := ensureStack()
	if err != nil {
		return ifNameErrno(err, unix.ENODEV)
	}
	index, err := s.Netifs.IndexByName(C.GoString(name))
	if err != nil {
		return ifNameErrno(err, unix.ENODEV)
	}
	return C.int(index)
}

//export gonetif_if_indextoname
func gonetif_if_indextoname(index C.uint, buf *C.char, n C.int) C.int {
	s, err := ensureStack()
	if err != nil {
		return ifNameErrno(err, unix.ENXIO)
	}
	name, err := s.Netifs.NameByIndex(tcpip.NICID(index))
	if err != nil {
		return ifNameErrno(err, unix.ENXIO)
	}
	if !putCString(buf, n, name) {
		return -C.int(unix.ENAMETOOLONG)
	}
	return 0
}

var errNameBuffer = errors.New("name buffer too small")

// putCString copies s and its NUL into the C buffer buf of n bytes.
func putCString(buf *C.char, n C.int, s string) bool {
	if buf == nil || int(n) < len(s)+1 {
		return false
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))
	b[copy(b, s)] = 0
	return true
}

//export gonetif_netif_get_route_prio
func gonetif_netif_get_route_prio(id C.int) C.int {
	cn, ok := netifs.get(int(id))
	if !ok {
		return -1
	}
	return C.int(cn.n.RoutePrio())
}

//export gonetif_netif_set_route_prio
func gonetif_netif_set_route_prio(id, prio C.int) C.int {
	cn, ok := netifs.get(int(id))
	if !ok {
		return -1
	}
	cn.n.SetRoutePrio(int(prio))
	return prio
}

//export gonetif_netif_set_default
func gonetif_netif_set_default(id C.int) C.int {
	if id == 0 {
		theStack.Netifs.SetDefault(nil)
		return espOK
	}
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	theStack.Netifs.SetDefault(cn.n)
	return espOK
}

//export gonetif_netif_get_default
func gonetif_netif_get_default() C.int {
	if theStack == nil {
		return 0
	}
	def := theStack.Netifs.Default()
	if def == nil {
		return 0
	}
	return C.int(netifs.find(func(cn *cNetif) bool { return cn.n == def }))
}

//export gonetif_netif_get_mtu
func gonetif_netif_get_mtu(id C.int) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return -rc
	}
	return C.int(cn.n.MTU())
}

//export gonetif_netif_set_mtu
func gonetif_netif_set_mtu(id, mtu C.int) C.int {
	cn, rc := lookupNetif(id)
	if cn == nil {
		return rc
	}
	return espErr(cn.n.SetMTU(uint32(mtu))) // a negative one is out of range
}

// forwardEvent hands a netif event to the C side, which posts it to
// esp_event on its own thread.
func forwardEvent(e netif.Event) {
	id := netifs.find(func(cn *cNetif) bool { return cn.n == e.Netif })
	cn, ok := netifs.get(id)
	if !ok {
		return
	}
	logf(logDebug, "%s: %s", e.Netif.Key(), e.Kind)
	if !e.Posted() {
		return
	}
	if e.Kind == netif.EventGotIP6 {
		postIP6Event(cn.cookie, e.ID(), e.IP6.As16(), e.IP6Zone(), e.IP6Index)
		return
	}
	postIPEvent(cn.cookie, e.ID(), ip4Value(e.IPInfo.IP), ip4Value(e.IPInfo.Netmask), ip4Value(e.IPInfo.Gateway), e.Changed)
}

func goString(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}
