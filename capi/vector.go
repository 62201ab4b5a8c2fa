package main

/*
#include "glue/gonetif_abi.h"
*/
import "C"

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"gonetif.dev/gonetif/socket"
)

// Vectored I/O (readv, writev, sendmsg, recvmsg) on the single-buffer
// steps: one iovec is used in place, several through a bounce buffer.

// ioVector turns a C iovec array into Go values; socket.VectorLen
// holds Linux's rules for it.
func ioVector(p unsafe.Pointer, count uint64, call socket.VectorCall) ([]unix.Iovec, int, error) {
	var iov []unix.Iovec
	if p != nil && count <= socket.MaxIOV {
		iov = unsafe.Slice((*unix.Iovec)(p), int(count))
	}
	total, err := socket.VectorLen(call, count, iov)
	if err != nil {
		return nil, 0, err
	}
	return iov, total, nil
}

// vectorBuffer is the one buffer a vector's data goes through: the
// single entry itself, or a new buffer (filled from the vector to send).
func vectorBuffer(iov []unix.Iovec, total int, gather bool) (b []byte, bounce bool) {
	if len(iov) == 1 {
		return unsafe.Slice(iov[0].Base, total), false
	}
	b = make([]byte, total)
	if gather {
		off := 0
		for _, v := range iov {
			if v.Len != 0 {
				off += copy(b[off:], unsafe.Slice(v.Base, int(v.Len)))
			}
		}
	}
	return b, true
}

// scatter copies b[from:to] into the vector at the same offsets.
func scatter(iov []unix.Iovec, b []byte, from, to int) {
	off := 0
	for _, v := range iov {
		n := int(v.Len)
		if off+n > from && off < to {
			lo, hi := max(from, off), min(to, off+n)
			copy(unsafe.Slice(v.Base, n)[lo-off:hi-off], b[lo:hi])
		}
		off += n
	}
}

func vectorOp(so *socket.Socket, c *C.struct_gonetif_call, call *socket.Call) (int, error) {
	iov, total, err := ioVector(c.buf, uint64(c.len), socket.VectorRW)
	if err != nil {
		return 0, err
	}
	if c.op == C.GONETIF_OP_WRITEV {
		b, _ := vectorBuffer(iov, total, true)
		return sendOp(so, call, b, socket.AddrArg{}, 0)
	}
	var b []byte
	bounce := false
	if total > 0 {
		b, bounce = vectorBuffer(iov, total, false)
	}
	before := call.Done
	res, err := so.ReadStep(call, b)
	if bounce && !res.Discarded {
		scatter(iov, b, before, max(res.N, call.Done))
	}
	return res.N, err
}

func msgOp(so *socket.Socket, c *C.struct_gonetif_call, call *socket.Call) (int, error) {
	if c.buf == nil {
		return 0, unix.EFAULT
	}
	msg := (*unix.Msghdr)(c.buf)
	namelen, err := socket.MsgNameLen(msg.Namelen)
	if err != nil {
		return 0, err
	}
	iov, total, err := ioVector(unsafe.Pointer(msg.Iov), uint64(msg.Iovlen), socket.VectorMsg)
	if err != nil {
		return 0, err
	}
	name := unsafe.Pointer(msg.Name)
	if c.op == C.GONETIF_OP_SENDMSG {
		b, _ := vectorBuffer(iov, total, true)
		return sendOp(so, call, b, addrArg(name, C.uint32_t(namelen)), int(c.flags))
	}
	msg.Flags = 0
	var b []byte
	bounce := false
	if total > 0 {
		b, bounce = vectorBuffer(iov, total, false)
	}
	from := addrOut(name, (*C.uint32_t)(&namelen))
	before := call.Done
	res, err := so.RecvFromStep(call, b, from, recvFlags(int(c.flags)))
	if bounce && !res.Discarded {
		scatter(iov, b, before, max(res.N, call.Done))
	}
	if err != nil {
		return 0, err
	}
	msg.Flags = int32(so.RecvMsgFlags(res, total))
	msg.Namelen = 0
	if name != nil {
		msg.Namelen = namelen
	}
	msg.SetControllen(0)
	return so.RecvReturn(res, c.flags&unix.MSG_TRUNC != 0), nil
}
