package tap

import "sync/atomic"

// Stats are the endpoint's counters since Open. Byte counts are Ethernet
// frame sizes without the virtio-net header.
type Stats struct {
	RxFrames, RxBytes uint64 // frames delivered to the stack
	TxFrames, TxBytes uint64 // frames written to the TAP
	RxGSO, TxGSO      uint64 // of those, multi-segment TCP or UDP frames (offload mode)
	TxUSOSegs         uint64 // datagrams sent inside merged UDP frames (Options.USO)
	RxDropped         uint64 // not attached to a stack, or unicast for another MAC
	TxDropped         uint64 // the kernel refused the write (queue full, TAP gone)
	RxMalformed       uint64 // too short, truncated, or bad virtio-net header
	RxBadChecksum     uint64 // offload mode: unflagged frame with a wrong checksum
	RxErrors          uint64 // read or poll failures that stopped the reader
}

type counters struct {
	rxFrames, rxBytes, txFrames, txBytes atomic.Uint64
	rxGSO, txGSO, rxDropped, txDropped   atomic.Uint64
	rxMalformed, rxBadChecksum, rxErrors atomic.Uint64
	txUSOSegs                            atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (e *Endpoint) Stats() Stats {
	c := &e.stats
	return Stats{
		RxFrames: c.rxFrames.Load(), RxBytes: c.rxBytes.Load(),
		TxFrames: c.txFrames.Load(), TxBytes: c.txBytes.Load(),
		RxGSO: c.rxGSO.Load(), TxGSO: c.txGSO.Load(),
		RxDropped: c.rxDropped.Load(), TxDropped: c.txDropped.Load(),
		RxMalformed: c.rxMalformed.Load(), RxBadChecksum: c.rxBadChecksum.Load(),
		RxErrors: c.rxErrors.Load(), TxUSOSegs: c.txUSOSegs.Load(),
	}
}
