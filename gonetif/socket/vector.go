package socket

import (
	"math"

	"golang.org/x/sys/unix"
)

// Linux's rules for I/O vectors and message headers (readv, writev,
// sendmsg, recvmsg), checked before any data moves. capi only turns C
// pointers into the values these take.

// VectorCall says whose rules a vector follows: the two families answer
// an over-long vector with different errors.
type VectorCall uint8

const (
	VectorRW  VectorCall = iota // readv, writev: too many entries is EINVAL
	VectorMsg                   // sendmsg, recvmsg: too many entries is EMSGSIZE
)

// MaxSockaddr is the longest address Linux copies from a msghdr; a longer
// msg_namelen is cut to it.
const MaxSockaddr = 128

// VectorLen checks a vector of count entries and returns its total
// length. iov is nil when the caller's array pointer is NULL (a count
// above MaxIOV need not be read at all). A negative readv count, seen
// as uint64, is over MaxIOV too. Order as Linux: count, array, entries.
func VectorLen(call VectorCall, count uint64, iov []unix.Iovec) (int, error) {
	if count > MaxIOV {
		if call == VectorMsg {
			return 0, unix.EMSGSIZE
		}
		return 0, unix.EINVAL
	}
	if count == 0 {
		return 0, nil
	}
	if iov == nil {
		return 0, unix.EFAULT
	}
	total := uint64(0)
	for _, v := range iov[:count] {
		if v.Len != 0 && v.Base == nil {
			return 0, unix.EFAULT
		}
		if v.Len > math.MaxInt64-total {
			return 0, unix.EINVAL // above SSIZE_MAX
		}
		total += v.Len
	}
	return int(total), nil
}

// MsgNameLen is the address length recvmsg and sendmsg use for a
// msg_namelen: negative (as a C int) is EINVAL, above MaxSockaddr cut.
func MsgNameLen(n uint32) (uint32, error) {
	if int32(n) < 0 {
		return 0, unix.EINVAL
	}
	return min(n, MaxSockaddr), nil
}

// RecvReturn is what recv, recvfrom and recvmsg return for res: the bytes
// copied, or with MSG_TRUNC asked on a datagram socket its whole length.
func (so *Socket) RecvReturn(res RecvResult, truncAsked bool) int {
	if truncAsked && so.Type != unix.SOCK_STREAM {
		return res.Total
	}
	return res.N
}

// RecvMsgFlags is recvmsg's msg_flags for res received into room bytes:
// MSG_TRUNC when a datagram did not fit (never on a stream).
func (so *Socket) RecvMsgFlags(res RecvResult, room int) int {
	if res.Total > room && so.Type != unix.SOCK_STREAM {
		return unix.MSG_TRUNC
	}
	return 0
}
