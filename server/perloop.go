package server

import (
	"sync"
	"sync/atomic"
)

// PerLoop holds one T per event loop: scratch state that a protocol shares among the
// connections of a loop (a message assembler, a compression buffer), so that idle
// connections hold none of it. Only the loop's goroutine touches its T, so T needs no
// lock. The zero value is ready to use.
//
// A PerLoop serves the loops of the first server that uses it from a slice indexed by
// loop; loops of any other server (one Upgrader given to two servers) get theirs from a
// map, slower but still one T per loop.
type PerLoop[T any] struct {
	srv   atomic.Pointer[Server]
	vals  atomic.Pointer[[]*T] // replaced, never changed, so reads take no lock
	mu    sync.Mutex
	other sync.Map // *Loop → *T
}

// Get returns c's loop's T, made on first use. Loop only.
func (p *PerLoop[T]) Get(c *Conn) *T {
	if p.srv.Load() == c.srv {
		if v := p.vals.Load(); v != nil && c.loop.id < len(*v) {
			if t := (*v)[c.loop.id]; t != nil {
				return t
			}
		}
	}
	return p.make(c)
}

func (p *PerLoop[T]) make(c *Conn) *T {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv.Load() == nil {
		p.srv.Store(c.srv)
	}
	if p.srv.Load() != c.srv {
		t, _ := p.other.LoadOrStore(c.loop, new(T))
		return t.(*T)
	}
	var old []*T
	if v := p.vals.Load(); v != nil {
		old = *v
	}
	id := c.loop.id
	if id < len(old) && old[id] != nil {
		return old[id]
	}
	next := make([]*T, max(len(old), id+1))
	copy(next, old)
	next[id] = new(T)
	p.vals.Store(&next)
	return next[id]
}
