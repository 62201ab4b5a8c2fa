package main

/*
#include <stdint.h>
#include <stdlib.h>
#include "glue/gonetif_abi.h"
*/
import "C"

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"gonetif.dev/gonetif/dns"
	"gonetif.dev/gonetif/socket"
)

// A getaddrinfo is one job: begin checks it and answers what needs no DNS
// server at once; a name is looked up on a goroutine while the C caller
// waits on the job's wait word (not inside Go, design rule 5), then result
// hands the flat answer over and ends the job.
type gaiJob struct {
	mu   sync.Mutex // held while the answer is posted and the caller woken
	wait *C.struct_gonetif_gai_wait
	ais  []dns.AddrInfo
	err  error
}

var gaiJobs handles[*gaiJob]

func optString(p *C.char) *string {
	if p == nil {
		return nil
	}
	s := C.GoString(p)
	return &s
}

// gonetif_host_error is gethostbyname_r's answer to EAI code eai: the
// errno it returns, and h_errno in *herrno.
//
//export gonetif_host_error
func gonetif_host_error(eai C.int, herrno *C.int) C.int {
	h, e := dns.HostError(int(eai))
	*herrno = C.int(h)
	return C.int(e)
}

//export gonetif_gai_begin
func gonetif_gai_begin(node, service *C.char, hasHints, flags, family, sockType, protocol C.int,
	wait **C.struct_gonetif_gai_wait) C.int {
	if wait == nil {
		return eaiSystem
	}
	*wait = nil
	s, err := ensureStack()
	if err != nil {
		return eaiOf(err)
	}
	var hints *dns.Hints
	if hasHints != 0 {
		hints = &dns.Hints{Flags: int(flags), Family: int(family), SockType: int(sockType), Protocol: int(protocol)}
	}
	q, err := s.Resolver.NewQuery(optString(node), optString(service), hints)
	if err != nil {
		logf(logDebug, "%v", err)
		return eaiOf(err)
	}
	job := &gaiJob{}
	if q.Local() {
		job.ais, job.err = q.Run(context.Background())
		return C.int(gaiJobs.add(job))
	}
	// The resolver bounds the lookup itself (timeouts times servers).
	job.wait = (*C.struct_gonetif_gai_wait)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_gonetif_gai_wait{}))))
	if job.wait == nil {
		return eaiMemory
	}
	*wait = job.wait
	id := gaiJobs.add(job)
	go func() {
		ais, err := q.Run(context.Background())
		if err != nil {
			logf(logDebug, "%v", err)
		}
		job.mu.Lock()
		defer job.mu.Unlock()
		job.ais, job.err = ais, err
		done := (*uint32)(unsafe.Pointer(&job.wait.done))
		atomic.StoreUint32(done, 1)
		if atomic.LoadUint32((*uint32)(unsafe.Pointer(&job.wait.waiters))) != 0 {
			unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(done)), futexWakePrivate, math.MaxInt32, 0, 0, 0)
		}
	}()
	return C.int(id)
}

// gonetif_gai_result returns the number of entries, in a malloc'd array
// (*entries) with the canonical name (*canon, or NULL), or an EAI_* code.
// It ends the job; the caller waited for its wait word first.
//
//export gonetif_gai_result
func gonetif_gai_result(id C.int, entries **C.struct_gonetif_gai_entry, canon **C.char) C.int {
	if entries == nil || canon == nil {
		return eaiSystem
	}
	*entries, *canon = nil, nil
	job, ok := gaiJobs.get(int(id))
	if !ok {
		logf(logError, "getaddrinfo: unknown job %d", int(id))
		return eaiSystem
	}
	job.mu.Lock() // the poster is done with the wait word
	defer job.mu.Unlock()
	if job.wait != nil {
		if atomic.LoadUint32((*uint32)(unsafe.Pointer(&job.wait.done))) == 0 {
			// Collected before the lookup ended: a glue bug. The job
			// stays, so the poster still finds its word.
			logf(logError, "getaddrinfo: job %d collected before it finished", int(id))
			return eaiSystem
		}
		C.free(unsafe.Pointer(job.wait))
		job.wait = nil
	}
	gaiJobs.remove(int(id))
	if job.err != nil {
		return eaiOf(job.err)
	}
	if len(job.ais) == 0 {
		return 0
	}
	size := C.size_t(unsafe.Sizeof(C.struct_gonetif_gai_entry{}))
	p := (*C.struct_gonetif_gai_entry)(C.calloc(C.size_t(len(job.ais)), size))
	if p == nil {
		return eaiMemory
	}
	out := unsafe.Slice(p, len(job.ais))
	for i, ai := range job.ais {
		e := &out[i]
		e.family, e.socktype, e.protocol = C.int32_t(ai.Family), C.int32_t(ai.SockType), C.int32_t(ai.Protocol)
		a := ai.Addr.Addr()
		if ai.Family == dns.AFInet {
			a = a.Unmap()
		}
		sa := socket.EncodeSockaddr(ai.Family, tcpip.FullAddress{Addr: tcpip.AddrFromSlice(a.AsSlice()),
			Port: ai.Addr.Port(), NIC: tcpip.NICID(ai.ScopeID())})
		e.addrlen = C.uint32_t(sa.N)
		for k, b := range sa.Bytes() {
			e.addr[k] = C.uint8_t(b)
		}
		if ai.CanonName != "" && *canon == nil {
			*canon = C.CString(ai.CanonName)
		}
	}
	*entries = p
	return C.int(len(job.ais))
}
