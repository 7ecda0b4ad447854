package websocket

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/switchyard-dev/switchyard/server"
)

// Hub is a set of WebSocket connections to broadcast to (a room). Each event loop's
// members are kept apart and touched only by that loop, so Add, Remove and the delivery
// of a broadcast take no lock on the members, and a broadcast costs one task per loop,
// not per connection; while a loop is busy, later broadcasts join the queued task (as
// long as nothing else was queued to the loop after it) and each member gets them in one
// write.
type Hub struct {
	mu    sync.Mutex                 // taken to add a part
	parts atomic.Pointer[[]*hubPart] // one per loop that has had a member; replaced, never changed
}

type hubPart struct {
	loop  *server.Loop
	conns []*Conn
	index map[*Conn]int
	n     atomic.Int64 // len(conns), for Len from any goroutine

	mu sync.Mutex
	// open is the delivery last queued on the loop and not yet begun. A broadcast joins it
	// while no other task has been queued on the loop since (a WriteAsync to a member,
	// say, which the broadcast must not overtake); otherwise it queues a delivery of its
	// own.
	open        *hubBatch
	queuedBytes int         // framed size of the broadcasts not yet delivered, bounded by hubQueueBudget
	spare       []*hubBatch // delivered batches, for the next ones (at most maxSpareBatches)

	filtered []*PreparedMessage // loop only: one member's share
}

// hubBatch is one delivery task: broadcasts to give a loop's members in one turn.
type hubBatch struct {
	p    *hubPart
	mark server.QueueMark
	msgs []*PreparedMessage
	// The member each message skips (BroadcastExcept), beside msgs; excepts counts the
	// non-nil ones, so that a room without such broadcasts keeps the one-write-per-member
	// path.
	except  []*Conn
	excepts int
	bytes   int
}

// hubQueueBudget bounds the broadcasts waiting for one loop, in framed bytes: a publisher
// faster than a loop can deliver learns it from Broadcast instead of growing the queue.
// One message is always admitted into an empty queue, however large.
const hubQueueBudget = 4 << 20

// ErrRoomSaturated is returned by Broadcast when a loop of the room still has more than
// hubQueueBudget of earlier broadcasts to deliver: that loop's members miss the message.
var ErrRoomSaturated = errors.New("switchyard: broadcast not queued: the room's delivery is behind")

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{} }

// list is the parts, for reading without the lock.
func (h *Hub) list() []*hubPart {
	if l := h.parts.Load(); l != nil {
		return *l
	}
	return nil
}

// part is l's part of the hub, made on first use. There is one part per loop, so a scan
// finds it.
func (h *Hub) part(l *server.Loop) *hubPart {
	find := func() *hubPart {
		for _, p := range h.list() {
			if p.loop == l {
				return p
			}
		}
		return nil
	}
	if p := find(); p != nil {
		return p
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if p := find(); p != nil {
		return p
	}
	p := &hubPart{loop: l, index: make(map[*Conn]int)}
	old := h.list()
	list := append(old[:len(old):len(old)], p)
	h.parts.Store(&list)
	return p
}

// Add puts w in the hub. Loop only (typically in OnOpen); on a route with
// Handler.UseWorkerPool it is safe from the callbacks, and takes effect on the loop.
func (h *Hub) Add(w *Conn) {
	if w.rt.UseWorkerPool {
		h.onLoop(w, true)
		return
	}
	h.add(w)
}

// onLoop adds or removes w on its loop, which runs the task even once w has closed, so a
// Remove is never lost.
func (h *Hub) onLoop(w *Conn, add bool) {
	_ = w.c.Loop().Run(&hubChange{h: h, w: w, add: add}) // fails only once the loop has stopped
}

// hubChange is an Add or a Remove from a callback on the worker pool.
type hubChange struct {
	h   *Hub
	w   *Conn
	add bool
}

func (t *hubChange) Run(context.Context) error {
	if t.add {
		t.h.add(t.w)
	} else {
		t.h.remove(t.w)
	}
	return nil
}

func (h *Hub) add(w *Conn) {
	p := h.part(w.c.Loop())
	if _, ok := p.index[w]; ok {
		return
	}
	p.index[w] = len(p.conns)
	p.conns = append(p.conns, w)
	p.n.Store(int64(len(p.conns)))
}

// Remove takes w out of the hub. Loop only (typically in OnClose); on a route with
// Handler.UseWorkerPool it is safe from the callbacks, and takes effect on the loop.
func (h *Hub) Remove(w *Conn) {
	if w.rt.UseWorkerPool {
		h.onLoop(w, false)
		return
	}
	h.remove(w)
}

func (h *Hub) remove(w *Conn) {
	p := h.part(w.c.Loop())
	i, ok := p.index[w]
	if !ok {
		return
	}
	last := len(p.conns) - 1
	p.conns[i] = p.conns[last]
	p.index[p.conns[i]] = i
	p.conns[last] = nil
	p.conns = p.conns[:last]
	delete(p.index, w)
	p.n.Store(int64(len(p.conns)))
}

// Broadcast sends pm to every member. Safe from any goroutine; delivery happens on each
// member's loop, in the order of the Broadcast calls and after whatever was queued to
// the loop before the call (a WriteAsync, CloseAsync or Execute to a member), subject to
// each connection's send budget and overflow policy. pm must not change afterwards. It
// returns ErrRoomSaturated when the members of some loop miss pm because that loop is
// behind with earlier broadcasts: a publisher should slow down.
func (h *Hub) Broadcast(pm *PreparedMessage) error { return h.BroadcastExcept(pm, nil) }

// BroadcastExcept is Broadcast to every member but except (nil: to all): "everyone but
// the sender". except need not be a member.
func (h *Hub) BroadcastExcept(pm *PreparedMessage, except *Conn) error {
	var err error
	for _, p := range h.list() {
		if !p.enqueue(pm, except) {
			err = ErrRoomSaturated
		}
	}
	return err
}

// Len counts the members. Safe from any goroutine.
func (h *Hub) Len() int {
	n := int64(0)
	for _, p := range h.list() {
		n += p.n.Load()
	}
	return int(n)
}

func (p *hubPart) enqueue(pm *PreparedMessage, except *Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queuedBytes > 0 && p.queuedBytes+len(pm.plain) > hubQueueBudget {
		return false
	}
	b, fresh := p.open, false
	if b == nil || !p.loop.StillLast(b.mark) {
		b, fresh = p.spareBatch(), true
	}
	b.msgs = append(b.msgs, pm)
	b.except = append(b.except, except)
	if except != nil {
		b.excepts++
	}
	b.bytes += len(pm.plain)
	p.queuedBytes += len(pm.plain)
	if !fresh {
		return true
	}
	// Queued under the lock, so that no broadcast joins the batch before its mark is set:
	// a syscall at most (the loop's wakeup), once per delivery.
	mark, err := p.loop.RunMarked(b)
	if err != nil {
		// The loop is gone (the server shut down): nothing will take the batch, so it
		// must not grow.
		p.queuedBytes -= b.bytes
		b.reset()
		p.keepSpare(b)
		return true
	}
	b.mark, p.open = mark, b
	return true
}

// Run is the delivery task, on the part's loop: every member gets the batch's messages.
func (b *hubBatch) Run(context.Context) error {
	p := b.p
	p.mu.Lock()
	if p.open == b {
		p.open = nil // no broadcast joins it from now on
	}
	p.queuedBytes -= b.bytes
	p.mu.Unlock()
	// A write that fails closes its connection at once, and OnClose may take it out of
	// the hub, moving the last member into its place: visit that one too.
	for i := 0; i < len(p.conns); i++ {
		w := p.conns[i]
		w.writePrepared(b.shareOf(w))
		if i < len(p.conns) && p.conns[i] != w {
			i--
		}
	}
	clear(p.filtered)
	b.reset()
	p.mu.Lock()
	p.keepSpare(b)
	p.mu.Unlock()
	return nil
}

// maxSpareBatches bounds the delivered batches a part keeps for reuse. Broadcasts
// interleaved with other tasks on a busy loop (WriteAsync to members) each need a batch of
// their own; a few spares keep that from allocating per broadcast.
const maxSpareBatches = 8

// spareBatch takes a spare batch, or makes one. Under p.mu.
func (p *hubPart) spareBatch() *hubBatch {
	if n := len(p.spare); n > 0 {
		b := p.spare[n-1]
		p.spare[n-1] = nil
		p.spare = p.spare[:n-1]
		return b
	}
	return &hubBatch{p: p}
}

// keepSpare keeps an empty batch for reuse, if there is room. Under p.mu.
func (p *hubPart) keepSpare(b *hubBatch) {
	if len(p.spare) < maxSpareBatches {
		p.spare = append(p.spare, b)
	}
}

// reset empties the batch for reuse; the messages may go.
func (b *hubBatch) reset() {
	clear(b.msgs)
	clear(b.except)
	b.msgs, b.except, b.excepts, b.bytes = b.msgs[:0], b.except[:0], 0, 0
}

// shareOf is what w gets of the batch: all of it but what was broadcast except to w.
// Loop only; valid until the next call.
func (b *hubBatch) shareOf(w *Conn) []*PreparedMessage {
	if b.excepts == 0 {
		return b.msgs
	}
	p := b.p
	p.filtered = p.filtered[:0]
	for i, pm := range b.msgs {
		if b.except[i] != w {
			p.filtered = append(p.filtered, pm)
		}
	}
	return p.filtered
}
