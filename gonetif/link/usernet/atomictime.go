package usernet

import (
	"sync/atomic"
	"time"
)

// atomicTime is a time read and written from several goroutines.
type atomicTime struct{ ns atomic.Int64 }

func (t *atomicTime) touch()         { t.ns.Store(time.Now().UnixNano()) }
func (t *atomicTime) get() time.Time { return time.Unix(0, t.ns.Load()) }
