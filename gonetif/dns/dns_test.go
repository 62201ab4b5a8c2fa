package dns

import (
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func mustName(s string) dnsmessage.Name { return dnsmessage.MustNewName(s) }

// answer builds a reply to (id, name, t) with the given header bits,
// CNAME hops and A records of the final name.
func answer(t testing.TB, id uint16, name string, qt dnsmessage.Type, rcode dnsmessage.RCode, tc bool, cnames []string, addrs ...netip.Addr) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, Response: true, RCode: rcode, Truncated: tc})
	_ = b.StartQuestions()
	_ = b.Question(dnsmessage.Question{Name: mustName(name), Type: qt, Class: dnsmessage.ClassINET})
	_ = b.StartAnswers()
	owner := name
	for _, c := range cnames {
		_ = b.CNAMEResource(dnsmessage.ResourceHeader{Name: mustName(owner), Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.CNAMEResource{CNAME: mustName(c)})
		owner = c
	}
	for _, a := range addrs {
		h := dnsmessage.ResourceHeader{Name: mustName(owner), Class: dnsmessage.ClassINET, TTL: 60}
		if a.Is4() {
			_ = b.AResource(h, dnsmessage.AResource{A: a.As4()})
		} else {
			_ = b.AAAAResource(h, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestParseAnswer(t *testing.T) {
	q := mustName("www.test.")
	a1, a6 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::1")
	res, tc, err := parseAnswer(answer(t, 7, "www.test.", dnsmessage.TypeA, 0, false, []string{"web.test.", "host.test."}, a1), 7, q, dnsmessage.TypeA)
	if err != nil || tc || len(res.Addrs) != 1 || res.Addrs[0] != a1 || res.Canonical != "host.test" {
		t.Fatalf("cname chain: %+v %v %v", res, tc, err)
	}
	res, _, err = parseAnswer(answer(t, 7, "www.test.", dnsmessage.TypeAAAA, 0, false, nil, a6), 7, q, dnsmessage.TypeAAAA)
	if err != nil || res.Addrs[0] != a6 {
		t.Fatalf("aaaa: %+v %v", res, err)
	}
	_, tc, _ = parseAnswer(answer(t, 7, "www.test.", dnsmessage.TypeA, 0, true, nil), 7, q, dnsmessage.TypeA)
	if !tc {
		t.Fatal("truncation not seen")
	}
	var de *Error
	_, _, err = parseAnswer(answer(t, 7, "www.test.", dnsmessage.TypeA, dnsmessage.RCodeNameError, false, nil), 7, q, dnsmessage.TypeA)
	if !errors.As(err, &de) || de.Kind != NotFound {
		t.Fatalf("nxdomain: %v", err)
	}
	_, _, err = parseAnswer(answer(t, 7, "www.test.", dnsmessage.TypeA, 0, false, nil), 7, q, dnsmessage.TypeA)
	if !errors.As(err, &de) || de.Kind != NoData {
		t.Fatalf("nodata: %v", err)
	}
	_, _, err = parseAnswer(answer(t, 7, "www.test.", dnsmessage.TypeA, dnsmessage.RCodeServerFailure, false, nil), 7, q, dnsmessage.TypeA)
	if !errors.As(err, &de) || de.Kind != Failed {
		t.Fatalf("servfail: %v", err)
	}
	if _, _, err = parseAnswer(answer(t, 8, "www.test.", dnsmessage.TypeA, 0, false, nil, a1), 7, q, dnsmessage.TypeA); !errors.Is(err, errNotOurs) {
		t.Fatalf("other id accepted: %v", err)
	}
	if _, _, err = parseAnswer(answer(t, 7, "evil.test.", dnsmessage.TypeA, 0, false, nil, a1), 7, q, dnsmessage.TypeA); !errors.Is(err, errNotOurs) {
		t.Fatalf("other question accepted: %v", err)
	}
	// Records of names outside the CNAME chain are ignored.
	res, _, err = parseAnswer(answer(t, 7, "www.test.", dnsmessage.TypeA, 0, false, []string{"web.test."}), 7, q, dnsmessage.TypeA)
	if err == nil {
		t.Fatalf("dangling cname gave %v", res)
	}
}

func TestBuildQuery(t *testing.T) {
	b, err := buildQuery(42, mustName("a.test."), dnsmessage.TypeAAAA)
	if err != nil {
		t.Fatal(err)
	}
	var m dnsmessage.Message
	if err := m.Unpack(b); err != nil || m.ID != 42 || !m.RecursionDesired || len(m.Questions) != 1 ||
		m.Questions[0].Type != dnsmessage.TypeAAAA || len(m.Additionals) != 1 {
		t.Fatalf("query %+v %v", m, err)
	}
}

func TestLookupNoServers(t *testing.T) {
	r := &Resolver{Servers: func() []netip.Addr { return nil }}
	_, err := r.Lookup(t.Context(), "a.test", 4)
	var de *Error
	if !errors.As(err, &de) || de.Kind != NoServers {
		t.Fatalf("%v", err)
	}
	if _, err := r.Lookup(t.Context(), "bad..name", 4); !errors.As(err, &de) || de.Kind != BadName {
		t.Fatalf("%v", err)
	}
}

// FuzzParseAnswer: any datagram from the network must be refused or
// parsed, never crash the resolver.
func FuzzParseAnswer(f *testing.F) {
	f.Add(answer(f, 7, "www.test.", dnsmessage.TypeA, 0, false, []string{"web.test."}, netip.MustParseAddr("10.0.0.1")))
	f.Add(answer(f, 7, "www.test.", dnsmessage.TypeAAAA, 0, false, nil, netip.MustParseAddr("fd00::1")))
	f.Add(answer(f, 7, "www.test.", dnsmessage.TypeA, dnsmessage.RCodeNameError, true, nil))
	f.Add([]byte{0, 7, 0x81, 0x80})
	q := mustName("www.test.")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, qt := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
			res, tc, err := parseAnswer(b, 7, q, qt)
			if err == nil && !tc && len(res.Addrs) == 0 {
				t.Fatal("success without addresses")
			}
		}
	})
}
