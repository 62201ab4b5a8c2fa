package main

import "sync"

// handles gives Go objects small positive ids that C can hold.
type handles[T any] struct {
	mu   sync.Mutex
	next int
	m    map[int]T
}

func (h *handles[T]) add(v T) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = make(map[int]T)
	}
	h.next++
	h.m[h.next] = v
	return h.next
}

func (h *handles[T]) get(id int) (T, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[id]
	return v, ok
}

func (h *handles[T]) remove(id int) (T, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[id]
	delete(h.m, id)
	return v, ok
}

// each calls fn for every value, outside the lock.
func (h *handles[T]) each(fn func(T)) {
	h.mu.Lock()
	vals := make([]T, 0, len(h.m))
	for _, v := range h.m {
		vals = append(vals, v)
	}
	h.mu.Unlock()
	for _, v := range vals {
		fn(v)
	}
}

// find returns the id of the first value matching pred, or 0.
func (h *handles[T]) find(pred func(T) bool) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, v := range h.m {
		if pred(v) {
			return id
		}
	}
	return 0
}

// snapshot returns the values held now, to work on outside the lock.
func (h *handles[T]) snapshot() []T {
	h.mu.Lock()
	defer h.mu.Unlock()
	vs := make([]T, 0, len(h.m))
	for _, v := range h.m {
		vs = append(vs, v)
	}
	return vs
}
