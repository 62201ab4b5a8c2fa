package dns

import (
	"errors"
	"net/netip"
	"strconv"
	"testing"
)

func code(err error) int {
	var ge *GaiError
	if errors.As(err, &ge) {
		return ge.Code
	}
	if err != nil {
		return 1
	}
	return 0
}

// These run without privileges; TestGetAddrInfoMatchesGlibc checks the
// same rules against the C library itself.
func TestGetAddrInfoHints(t *testing.T) {
	r := &Resolver{}
	for _, c := range []struct {
		node, service *string
		hints         *Hints
		want          []string // "family/socktype/protocol addr:port"
		code          int
	}{
		{nil, nil, nil, nil, EAINoName},
		{sp("*"), sp("*"), nil, nil, EAINoName},
		{nil, sp("80"), &Hints{Flags: 0x8000}, nil, EAIBadFlags},
		{nil, sp("80"), &Hints{Flags: AICanonName}, nil, EAIBadFlags},
		{nil, sp("80"), &Hints{Family: 1}, nil, EAIFamily},
		{nil, sp("80"), &Hints{SockType: 99}, nil, EAISockType},
		{nil, sp("80"), &Hints{SockType: SockStream, Protocol: ProtoUDP}, nil, EAISockType},
		{nil, sp("80"), &Hints{Protocol: 99}, nil, EAIService},
		{nil, sp("http"), &Hints{Flags: AINumericServ}, nil, EAINoName},
		{nil, sp("-1"), nil, nil, EAIService},
		{nil, sp("nosuchsvc"), nil, nil, EAIService},
		{sp("name.test"), nil, &Hints{Flags: AINumericHost}, nil, EAINoName},
		{sp("1.2.3.4"), nil, &Hints{Family: AFInet6}, nil, EAIAddrFamily},
		{sp("::1"), nil, &Hints{Family: AFInet}, nil, EAIAddrFamily},
		{sp("fe80::1%nosuch"), nil, nil, nil, EAINoName},
		{nil, sp("80"), &Hints{SockType: SockStream}, []string{"10/1/6 [::1]:80", "2/1/6 127.0.0.1:80"}, 0},
		{nil, sp("80"), &Hints{Flags: AIPassive, SockType: SockDgram}, []string{"10/2/17 [::]:80", "2/2/17 0.0.0.0:80"}, 0},
		{sp("0x7f.1"), sp("65536"), &Hints{Protocol: ProtoTCP}, []string{"2/1/6 127.0.0.1:0"}, 0},
		{sp("10.1.2.3"), nil, &Hints{Family: AFInet6, Flags: AIV4Mapped}, []string{"10/1/6 [::ffff:10.1.2.3]:0",
			"10/2/17 [::ffff:10.1.2.3]:0", "10/3/0 [::ffff:10.1.2.3]:0"}, 0},
		{sp("::ffff:10.1.2.3"), sp(" +7"), &Hints{Family: AFInet, SockType: SockRaw, Protocol: 99}, nil, EAIService},
		{sp("::ffff:10.1.2.3"), sp(""), &Hints{Family: AFInet, SockType: SockRaw, Protocol: 99}, []string{"2/3/99 10.1.2.3:0"}, 0},
		{sp("fe80::1%3"), sp("domain"), &Hints{SockType: SockDgram}, []string{"10/2/17 [fe80::1%3]:53"}, 0},
		{sp("localhost"), sp("7"), &Hints{Family: AFInet6, SockType: SockStream}, []string{"10/1/6 [::1]:7"}, 0},
	} {
		ais, err := r.GetAddrInfo(t.Context(), c.node, c.service, c.hints)
		if got := code(err); got != c.code {
			t.Errorf("%v %v %+v: error %d (%v), want %d", deref(c.node), deref(c.service), c.hints, got, err, c.code)
			continue
		}
		var got []string
		for _, ai := range ais {
			got = append(got, formatAI(ai))
		}
		if len(got) != len(c.want) {
			t.Errorf("%v %v %+v: %v, want %v", deref(c.node), deref(c.service), c.hints, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%v %v %+v: %v, want %v", deref(c.node), deref(c.service), c.hints, got, c.want)
				break
			}
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return "NULL"
	}
	return *p
}

func formatAI(ai AddrInfo) string {
	return itoa(ai.Family) + "/" + itoa(ai.SockType) + "/" + itoa(ai.Protocol) + " " + ai.Addr.String()
}

func itoa(v int) string { return strconv.Itoa(v) }

// AI_ADDRCONFIG narrows an unspecified family to the one configured and
// refuses a family that is not, as glibc; with neither, nothing changes.
func TestGetAddrInfoAddrConfig(t *testing.T) {
	for _, c := range []struct {
		v4, v6 bool
		family int
		want   []string
		code   int
	}{
		{false, false, AFUnspec, []string{"10/1/6 [::1]:1", "2/1/6 127.0.0.1:1"}, 0},
		{true, false, AFUnspec, []string{"2/1/6 127.0.0.1:1"}, 0},
		{false, true, AFUnspec, []string{"10/1/6 [::1]:1"}, 0},
		{true, false, AFInet6, nil, EAINoName},
		{false, false, AFInet, nil, EAINoName},
	} {
		r := &Resolver{AddrConfig: func() (bool, bool) { return c.v4, c.v6 }}
		ais, err := r.GetAddrInfo(t.Context(), nil, sp("1"), &Hints{Flags: AIAddrConfig, Family: c.family, SockType: SockStream})
		if code(err) != c.code {
			t.Errorf("%+v: %v", c, err)
			continue
		}
		var got []string
		for _, ai := range ais {
			got = append(got, formatAI(ai))
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("%+v: %v, want %v", c, got, c.want)
		}
	}
}

// The order follows the source addresses: a destination with none (no
// route) goes last, a matching label beats a higher precedence.
func TestGetAddrInfoOrder(t *testing.T) {
	r := &Resolver{Source: func(dst netip.Addr) (netip.Addr, bool) {
		if dst.Is6() {
			return netip.Addr{}, false // no IPv6 route
		}
		return netip.MustParseAddr("10.0.0.2"), true
	}}
	ais, err := r.GetAddrInfo(t.Context(), nil, sp("1"), &Hints{SockType: SockStream})
	if err != nil || len(ais) != 2 || ais[0].Family != AFInet {
		t.Fatalf("%v %v: IPv4 should come first without an IPv6 route", ais, err)
	}
	r.Source = func(dst netip.Addr) (netip.Addr, bool) { return dst, true }
	ais, err = r.GetAddrInfo(t.Context(), nil, sp("1"), &Hints{SockType: SockStream})
	if err != nil || len(ais) != 2 || ais[0].Family != AFInet6 {
		t.Fatalf("%v %v: ::1 has the higher precedence", ais, err)
	}
}

func TestInetAton(t *testing.T) {
	for s, want := range map[string]string{"1.2.3.4": "1.2.3.4", "127.1": "127.0.0.1", "0x7f.1": "127.0.0.1",
		"010.1": "8.0.0.1", "1.2.65535": "1.2.255.255", "4294967295": "255.255.255.255", "0X0A.0.0.1": "10.0.0.1",
		"1.2.65536": "", "256.1.1.1": "", "08.1.1.1": "", "1.2.3.4.": "", "1..2": "", "0x": "", " 1.2.3.4": "",
		"1.2.3.4 ": "", "": "", "4294967296": "", "1.2.3.4.5": "", "0x100000000": ""} {
		a, ok := inetAton(s)
		if got := map[bool]string{true: a.String(), false: ""}[ok]; got != want {
			t.Errorf("inetAton(%q) = %q, want %q", s, got, want)
		}
	}
}
