package main

/*
#include <stdint.h>
*/
import "C"

import (
	"context"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/dns"
)

// A lookup runs on a goroutine; the C caller waits on its eventfd, not
// inside Go (design rule 5), then collects the result.
type dnsJob struct {
	res dns.Result
	err error
}

var (
	dnsMu        sync.Mutex
	dnsJobs      = map[int]*dnsJob{}
	dnsAbandoned = map[int]bool{} // running jobs whose caller stopped waiting
	dnsNext      = 1
)

//export gonetif_dns_lookup_start
func gonetif_dns_lookup_start(name *C.char, family C.int, efd C.int) C.int {
	s, err := ensureStack()
	if err != nil {
		return eaiOf(err)
	}
	host := C.GoString(name)
	dnsMu.Lock()
	id := dnsNext
	dnsNext++
	dnsMu.Unlock()
	go func() {
		res, err := s.Resolver.Lookup(context.Background(), host, int(family))
		if err != nil {
			logf(logDebug, "lookup %s: %v", host, err)
		}
		// Written under the lock, so that an abandoned job's descriptor
		// number, possibly reused by now, is never touched.
		dnsMu.Lock()
		defer dnsMu.Unlock()
		if dnsAbandoned[id] {
			delete(dnsAbandoned, id)
			return
		}
		dnsJobs[id] = &dnsJob{res: res, err: err}
		one := [8]byte{1}
		_, _ = unix.Write(int(efd), one[:])
	}()
	return C.int(id)
}

//export gonetif_dns_lookup_abandon
func gonetif_dns_lookup_abandon(id C.int) {
	dnsMu.Lock()
	defer dnsMu.Unlock()
	if _, done := dnsJobs[int(id)]; done {
		delete(dnsJobs, int(id))
		return
	}
	dnsAbandoned[int(id)] = true
}

// gonetif_dns_lookup_result copies up to maxN addresses (16 bytes each,
// family 4 or 6 in fams) and the canonical name; returns the count or an
// EAI_* code.
//
//export gonetif_dns_lookup_result
func gonetif_dns_lookup_result(id C.int, addrs *C.uint8_t, fams *C.int, maxN C.int, canon *C.char, canonLen C.int) C.int {
	dnsMu.Lock()
	job, ok := dnsJobs[int(id)]
	delete(dnsJobs, int(id))
	dnsMu.Unlock()
	if !ok {
		return eaiSystem
	}
	if job.err != nil {
		return eaiOf(job.err)
	}
	out := unsafe.Slice((*byte)(unsafe.Pointer(addrs)), int(maxN)*16)
	fs := unsafe.Slice((*C.int)(unsafe.Pointer(fams)), int(maxN))
	n := 0
	for _, a := range job.res.Addrs {
		if n >= int(maxN) {
			break
		}
		b := a.Unmap().As16()
		fs[n] = 6
		if a.Unmap().Is4() {
			b4 := a.Unmap().As4()
			copy(b[:], b4[:])
			fs[n] = 4
		}
		copy(out[n*16:], b[:])
		n++
	}
	if canon != nil && canonLen > 0 {
		c := unsafe.Slice((*byte)(unsafe.Pointer(canon)), int(canonLen))
		k := copy(c[:len(c)-1], job.res.Canonical)
		c[k] = 0
	}
	return C.int(n)
}
