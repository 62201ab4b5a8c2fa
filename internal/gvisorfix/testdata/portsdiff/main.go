// Command portsdiff drives gVisor's ports.PortManager with a fixed random
// sequence of reservations and releases and prints every answer, one a
// line, then the heap bytes one ephemeral TCP reservation holds.
// TestPortsOverlayUnchanged runs it built with and without the overlay
// and compares.
package main

import (
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"runtime"

	"gvisor.dev/gvisor/pkg/rand"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/ports"
)

// seeded is the io.Reader PickEphemeralPort draws from: the same
// sequence in both builds.
type seeded struct{ r *mrand.Rand }

func (s seeded) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint32())
	}
	return len(p), nil
}

func main() {
	ops := flag.Int("ops", 20000, "random operations")
	held := flag.Int("mem", 20000, "ephemeral reservations for the memory figure")
	flag.Parse()
	trace(*ops)
	fmt.Printf("bytes per ephemeral reservation %d\n", perReservation(*held))
}

func trace(n int) {
	r := mrand.New(mrand.NewPCG(9, 10))
	rng := rand.RNGFrom(seeded{r})
	pm := ports.NewPortManager()
	// A range this small runs out, and ports collide often.
	if err := pm.SetPortRange(1000, 1005); err != nil {
		panic(err)
	}
	addrs := []tcpip.Address{{}, tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), tcpip.AddrFrom4([4]byte{10, 0, 0, 2})}
	dests := []tcpip.FullAddress{{}, {Addr: addrs[1], Port: 80}, {Addr: addrs[2], Port: 80}, {Addr: addrs[2], Port: 81}}
	nets := [][]tcpip.NetworkProtocolNumber{{header.IPv4ProtocolNumber}, {header.IPv6ProtocolNumber}, {header.IPv4ProtocolNumber, header.IPv6ProtocolNumber}}
	var live []ports.Reservation
	for i := 0; i < n; i++ {
		res := ports.Reservation{
			Networks:     nets[r.IntN(len(nets))],
			Transport:    []tcpip.TransportProtocolNumber{header.TCPProtocolNumber, header.UDPProtocolNumber}[r.IntN(2)],
			Addr:         addrs[r.IntN(len(addrs))],
			Port:         []uint16{0, 0, 0, 1000, 1001, 1002, 2000, 2001, 2002}[r.IntN(9)],
			Flags:        ports.Flags{MostRecent: r.IntN(3) == 0, LoadBalanced: r.IntN(3) == 0, TupleOnly: r.IntN(4) == 0},
			BindToDevice: tcpip.NICID(r.IntN(3)),
			Dest:         dests[r.IntN(len(dests))],
		}
		switch k := r.IntN(10); {
		case k < 4 || len(live) == 0:
			refuse := uint16(r.IntN(6) + 1000)
			port, err := pm.ReservePort(rng, res, func(p uint16) (bool, tcpip.Error) { return p != refuse, nil })
			fmt.Printf("%d reserve %+v refuse %d: %d %v\n", i, res, refuse, port, err)
			if err == nil {
				res.Port = port
				live = append(live, res)
			}
		case k < 6:
			if res.Port == 0 {
				res.Port = 1001
			}
			if len(live) > 0 && r.IntN(2) == 0 {
				// Another endpoint on a held tuple, as an accepted
				// connection or a second socket with reuse flags.
				l := live[r.IntN(len(live))]
				res.Networks, res.Transport, res.Addr, res.Port, res.BindToDevice, res.Dest = l.Networks, l.Transport, l.Addr, l.Port, l.BindToDevice, l.Dest
			}
			ok := pm.ReserveTuple(res)
			fmt.Printf("%d tuple %+v: %v\n", i, res, ok)
			if ok {
				live = append(live, res)
			}
		case k < 9:
			j := r.IntN(len(live))
			fmt.Printf("%d release %+v\n", i, live[j])
			pm.ReleasePort(live[j])
			live = append(live[:j], live[j+1:]...)
		default:
			// A release of what was never reserved changes nothing.
			fmt.Printf("%d release unheld %+v\n", i, res)
			pm.ReleasePort(res)
		}
	}
}

func heap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// perReservation is what connecting sockets hold: an ephemeral TCP port
// each, to one of many peers.
func perReservation(n int) uint64 {
	pm := ports.NewPortManager()
	rng := rand.RNGFrom(seeded{mrand.New(mrand.NewPCG(1, 2))})
	before := heap()
	for i := 0; i < n; i++ {
		res := ports.Reservation{
			Networks:  []tcpip.NetworkProtocolNumber{header.IPv4ProtocolNumber},
			Transport: header.TCPProtocolNumber,
			Addr:      tcpip.AddrFrom4([4]byte{10, 0, 0, 1}),
			Dest:      tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), Port: 80},
		}
		if _, err := pm.ReservePort(rng, res, nil); err != nil {
			panic(fmt.Sprint(i, err))
		}
	}
	after := heap()
	runtime.KeepAlive(pm)
	return (after - before) / uint64(n)
}
