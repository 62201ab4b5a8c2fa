package dhcp

import (
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// FuzzParse feeds arbitrary datagrams to what the client does with a
// server reply: it must never panic, only refuse.
func FuzzParse(f *testing.F) {
	req, _ := dhcpv4.NewDiscovery(testMAC)
	f.Add(reply(req, dhcpv4.MessageTypeOffer, net.IPv4(10, 0, 0, 7), dhcpv4.WithLeaseTime(60)).ToBytes())
	f.Add(reply(req, dhcpv4.MessageTypeAck, net.IPv4(10, 0, 0, 7), dhcpv4.WithLeaseTime(0),
		dhcpv4.WithNetmask(net.IPv4Mask(0, 0, 0, 0))).ToBytes())
	f.Add([]byte{2, 1, 6, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, testMAC, req.TransactionID)
		if err != nil {
			return
		}
		if l, err := leaseFrom(m); err == nil {
			if !l.IP.Is4() || !l.Netmask.Is4() || l.T1 <= 0 || l.T1 >= l.T2 || l.T2 >= l.Duration {
				t.Fatalf("inconsistent lease %+v", l)
			}
		}
	})
}
