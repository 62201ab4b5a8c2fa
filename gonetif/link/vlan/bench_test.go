package vlan_test

import (
	"path/filepath"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"gonetif.dev/gonetif/link/pair"
	"gonetif.dev/gonetif/link/vlan"
	"gonetif.dev/internal/lantest"
)

// BenchmarkBulk measures one-way bulk TCP between two stacks, MB/s, over
// the in-memory cable (the reference), an in-process switch, and a switch
// reached over its UNIX socket (both ends in this process, so the figure
// is the socket path's cost, not a second process's scheduling).
//
//	go test ./gonetif/link/vlan -run '^$' -bench Bulk -benchtime 3s
func BenchmarkBulk(b *testing.B) {
	b.Run("pair", func(b *testing.B) {
		p := pair.New(mac(1), mac(2), 0)
		b.Cleanup(p.Close)
		benchBulk(b, p.A, p.B)
	})
	b.Run("switch", func(b *testing.B) {
		sw, _ := vlan.NewSwitch(vlan.Options{})
		b.Cleanup(sw.Close)
		pa, _ := sw.NewPort(vlan.PortOptions{MAC: mac(1)})
		pb, _ := sw.NewPort(vlan.PortOptions{MAC: mac(2)})
		benchBulk(b, pa, pb)
	})
	b.Run("socket", func(b *testing.B) {
		sw, _ := vlan.NewSwitch(vlan.Options{})
		b.Cleanup(sw.Close)
		srv, err := vlan.Listen(sw, filepath.Join(b.TempDir(), "sw.sock"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { srv.Close() })
		ca, err := vlan.Dial(srv.Path(), vlan.ClientOptions{MAC: mac(1)})
		if err != nil {
			b.Fatal(err)
		}
		cb, err := vlan.Dial(srv.Path(), vlan.ClientOptions{MAC: mac(2)})
		if err != nil {
			b.Fatal(err)
		}
		benchBulk(b, ca, cb)
		b.ReportMetric(float64(ca.TxDropped()+cb.TxDropped()), "txdrops")
	})
}

func benchBulk(b *testing.B, la, lb stack.LinkEndpoint) { lantest.BulkSend(b, la, lb, 7500) }
