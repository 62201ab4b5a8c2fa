package dns_test

import (
	"syscall"
	"testing"

	"gonetif.dev/gonetif/dns"
)

func TestHostError(t *testing.T) {
	for _, tc := range []struct {
		eai, herrno int
		errno       syscall.Errno
	}{
		{dns.EAIAgain, dns.HTryAgain, syscall.EAGAIN},
		{dns.EAINoData, dns.HNoData, syscall.ENOENT},
		{dns.EAINoName, dns.HHostNotFound, syscall.ENOENT},
		{dns.EAIFail, dns.HHostNotFound, syscall.ENOENT},
	} {
		if h, e := dns.HostError(tc.eai); h != tc.herrno || e != tc.errno {
			t.Errorf("HostError(%d) = %d, %v; want %d, %v", tc.eai, h, e, tc.herrno, tc.errno)
		}
	}
}
