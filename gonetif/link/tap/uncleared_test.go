package tap_test

import (
	"bytes"
	"testing"

	"gvisor.dev/gvisor/pkg/buffer"
)

// The buffer edits of internal/gvisorfix: the TAP reader's views and
// Write's copies take pooled chunks without clearing them (every byte
// they expose is written first). A chunk released with a pattern in it
// comes back with the pattern (Buffer.GrowTo still clears when asked); sync.Pool may drop a chunk now and then,
// hence a bounded number of tries.
const unclearedTries = 200

func TestReceiveViewsUncleared(t *testing.T) {
	const size = 4096
	for i := 0; i < unclearedTries; i++ {
		v := buffer.NewViewSizeUncleared(size)
		if v.Size() != size {
			t.Fatalf("NewViewSizeUncleared(%d) has %d bytes", size, v.Size())
		}
		s := v.AsSlice()
		seen := s[0] == 0xa5 && s[size-1] == 0xa5
		for j := range s {
			s[j] = 0xa5
		}
		v.Release()
		if seen {
			return
		}
	}
	t.Fatalf("no view of %d tries kept the pattern of a released one: views are cleared", unclearedTries)
}

func TestWriteFromReaderUncleared(t *testing.T) {
	const size = 4096
	pattern := bytes.Repeat([]byte{0x5a}, size)
	for i := 0; i < unclearedTries; i++ {
		var b buffer.Buffer
		if _, err := b.WriteFromReader(bytes.NewReader(pattern), size); err != nil {
			t.Fatal(err)
		}
		b.Release()
		// Just over half a chunk copied in (a copy takes the chunk size
		// of its length); GrowTo without zeroing shows what the rest held.
		var c buffer.Buffer
		if _, err := c.WriteFromReader(bytes.NewReader(bytes.Repeat([]byte{1}, size/2+1)), size/2+1); err != nil {
			t.Fatal(err)
		}
		c.GrowTo(size, false)
		got := c.Flatten()
		c.Release()
		if got[0] != 1 || got[size/2] != 1 {
			t.Fatalf("the bytes copied in read %#x, %#x", got[0], got[size/2])
		}
		if got[size-1] == 0x5a {
			return
		}
	}
	t.Fatalf("no Write copy of %d tries kept a released chunk's pattern: copies clear their chunks first", unclearedTries)
}
