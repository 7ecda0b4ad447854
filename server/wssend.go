package server

import (
	"context"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// deflateState is a connection's permessage-deflate state. Its compressor and
// decompressor are taken when first needed; without context takeover they hold no
// memory between messages.
type deflateState struct {
	params ws.DeflateParams
	def    *ws.Deflater
	inf    *ws.Inflater
}

func (d *deflateState) inflater() *ws.Inflater {
	if d.inf == nil {
		d.inf = d.params.NewServerInflater()
	}
	return d.inf
}

func (d *deflateState) afterInflate() {}

func (d *deflateState) deflater() *ws.Deflater {
	if d.def == nil {
		d.def = d.params.NewServerDeflater()
	}
	return d.def
}

func (d *deflateState) release() {
	if d == nil {
		return
	}
	if d.def != nil {
		d.def.Release()
	}
	if d.inf != nil {
		d.inf.Release()
	}
}

// freshCompressionOK reports whether a message compressed on its own (no shared history)
// may be sent: not when the server keeps context, because such a message would enter the
// peer's window behind the back of the connection's compressor, nor with a window below
// 15 bits, which only the connection's compressor honours.
func (d *deflateState) freshCompressionOK() bool {
	return d != nil && d.params.ServerNoContextTakeover && d.params.ServerMaxWindowBits >= 15
}

// Reply sends a message from a callback, on the loop: it joins the frames the current read
// produces in one write. p is copied unless it is the payload OnMessage is delivering
// (then it is written without a copy). Loop only: from other goroutines use Send.
func (w *WSConn) Reply(op ws.OpCode, p []byte) error {
	if w.state >= wsCloseSent {
		return ErrClosed
	}
	c := w.c
	if w.overBudget(p) {
		return w.overflow()
	}
	c.loop.stats.msgsOut.Add(1)
	c.loop.stats.bytesOut.Add(uint64(len(p)))
	if d := w.deflate; d != nil && len(p) >= w.rt.CompressThreshold {
		l := c.loop
		l.scratch = d.deflater().Compress(l.scratch[:0], p)
		b := ws.AppendHeader(c.AppendBuffer(), true, op, true, len(l.scratch))
		c.Commit(append(b, l.scratch...))
		return nil
	}
	c.Commit(ws.AppendHeader(c.AppendBuffer(), true, op, false, len(p)))
	if len(p) > 0 && within(p, c.loop.wsCurrent) {
		c.WriteRef(p)
	} else {
		c.Write(p)
	}
	return nil
}

// within reports whether p lies inside v.
func within(p, v []byte) bool {
	if len(v) == 0 || len(p) > len(v) {
		return false
	}
	ps, vs := uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	return ps >= vs && ps+uintptr(len(p)) <= vs+uintptr(len(v))
}

// overBudget reports whether a data message of n bytes, joining queued bytes the peer has
// not taken yet, would go past the send budget. A message larger than the whole budget
// could never fit, so it is admitted whenever the queue is under the budget: otherwise an
// echo could never return a message between SendBudget and MaxMessageSize. The backlog
// thus stays below the budget plus one message.
func overBudget(queued, n, budget int64) bool {
	if n > budget {
		return queued >= budget
	}
	return queued+n > budget
}

// overBudget reports whether p would take what is queued for w on its loop (the batch
// and what the socket has not taken) past the send budget. Loop only.
func (w *WSConn) overBudget(p []byte) bool {
	c := w.c
	return overBudget(int64(c.gc.OutboundBuffered()+c.loop.batch.n), int64(len(p)), int64(w.rt.SendBudget))
}

// overflow applies the route's policy to a data message past the send budget.
func (w *WSConn) overflow() error {
	w.dropped.Add(1)
	w.c.loop.stats.dropped.Add(1)
	switch w.rt.Overflow {
	case CloseTryAgainLater:
		w.closeWith(ws.StatusTryAgainLater, "send budget exceeded")
	case ClosePolicyViolation:
		w.closeWith(ws.StatusPolicyViolation, "send budget exceeded")
	}
	return ErrDropped
}

// closeWith starts the close handshake from the server's side (RFC 6455 §7.1.2). Loop only.
func (w *WSConn) closeWith(code ws.StatusCode, reason string) {
	if w.state >= wsCloseSent {
		return
	}
	var buf [ws.MaxControlPayload]byte
	w.writeControl(ws.OpClose, ws.AppendClose(buf[:0], code, reason))
	w.state = wsCloseSent
	w.closing.Store(true)
	w.c.SetDeadline(w.rt.CloseTimeout)
}

// Close starts the close handshake with code and reason. Safe from any goroutine.
func (w *WSConn) Close(code ws.StatusCode, reason string) error {
	if w.closing.Load() {
		return nil
	}
	return w.c.Execute(func(*Conn) { w.closeWith(code, reason) })
}

// sendBuf is one message framed for Send; it carries its own completion callback so that
// a pooled sendBuf costs no allocation per message.
type sendBuf struct {
	b    []byte
	w    *WSConn
	done gnet.AsyncCallback
	// comp and def compress a message on its own (no context takeover), reused with the
	// sendBuf so that a compressed Send makes no compressor or buffer per message.
	comp []byte
	def  *ws.Deflater
	lvl  int
}

var sendPool sync.Pool

func init() { sendPool.New = newSendBuf }

func newSendBuf() any {
	s := &sendBuf{}
	s.done = func(gc gnet.Conn, _ error) error {
		w := s.w
		w.queued.Add(-int32(len(s.b)))
		if gc != nil {
			w.backlog.Store(int32(gc.OutboundBuffered()))
		}
		s.w = nil
		if cap(s.b) > 64<<10 {
			s.b, s.comp = nil, nil
		}
		sendPool.Put(s)
		return nil
	}
	return s
}

// Send sends a message from any goroutine; p is copied, so the caller may reuse it at once.
// Past the send budget the route's Overflow policy applies and Send returns ErrDropped.
func (w *WSConn) Send(op ws.OpCode, p []byte) error {
	if w.closing.Load() {
		return ErrClosed
	}
	if overBudget(int64(w.backlog.Load())+int64(w.queued.Load()), int64(len(p)), int64(w.rt.SendBudget)) {
		w.dropped.Add(1)
		w.c.loop.stats.dropped.Add(1)
		if w.rt.Overflow != DropMessages {
			code := ws.StatusTryAgainLater
			if w.rt.Overflow == ClosePolicyViolation {
				code = ws.StatusPolicyViolation
			}
			_ = w.Close(code, "send budget exceeded")
		}
		return ErrDropped
	}
	s := sendPool.Get().(*sendBuf)
	s.w = w
	if w.deflate.freshCompressionOK() && len(p) >= w.rt.CompressThreshold {
		if s.def == nil || s.lvl != w.deflate.params.Level {
			s.def, s.lvl = ws.NewDeflater(w.deflate.params.Level, 15, false), w.deflate.params.Level
		}
		s.comp = s.def.Compress(s.comp[:0], p)
		s.b = ws.AppendFrame(s.b[:0], true, op, true, s.comp)
	} else {
		s.b = ws.AppendFrame(s.b[:0], true, op, false, p)
	}
	w.queued.Add(int32(len(s.b)))
	w.c.loop.stats.msgsOut.Add(1)
	w.c.loop.stats.bytesOut.Add(uint64(len(p)))
	if err := w.c.gc.AsyncWrite(s.b, s.done); err != nil {
		_ = s.done(nil, err)
		return ErrClosed
	}
	return nil
}

// appendCompressedFrame frames p compressed on its own by a pooled compressor.
func appendCompressedFrame(dst []byte, op ws.OpCode, p []byte, level int) []byte {
	d := ws.NewDeflater(level, 15, false)
	var scratch []byte
	scratch = d.Compress(scratch, p)
	d.Release()
	return ws.AppendFrame(dst, true, op, true, scratch)
}

// PreparedMessage is a message framed (and compressed) once, to be sent to many
// connections without framing it again.
type PreparedMessage struct {
	size       int // payload bytes
	plain      []byte
	compressed []byte // nil when compression would not pay
}

// NewPreparedMessage frames p; compressed with level (0: BestSpeed) for connections that
// negotiated permessage-deflate, when p is at least threshold bytes (0: 256).
func NewPreparedMessage(op ws.OpCode, p []byte, level, threshold int) *PreparedMessage {
	if threshold <= 0 {
		threshold = 256
	}
	pm := &PreparedMessage{size: len(p), plain: ws.AppendFrame(nil, true, op, false, p)}
	if len(p) >= threshold {
		pm.compressed = appendCompressedFrame(nil, op, p, level)
	}
	return pm
}

func (pm *PreparedMessage) frameFor(w *WSConn) []byte {
	if pm.compressed != nil && w.deflate.freshCompressionOK() {
		return pm.compressed
	}
	return pm.plain
}

// writePrepared queues msgs for w on its loop's batch, within the send budget, and writes
// them in one call: broadcasts that piled up while the loop was busy leave together.
func (w *WSConn) writePrepared(msgs []*PreparedMessage) {
	c := w.c
	for _, pm := range msgs {
		if w.state >= wsCloseSent || c.closed {
			break
		}
		frame := pm.frameFor(w)
		if c.loop.batch.n > 0 && w.overBudget(frame) {
			// The budget counts what the socket has not taken: hand it the batch first.
			if c.loop.flush(c); c.closed {
				return
			}
		}
		if w.overBudget(frame) {
			_ = w.overflow()
			if w.rt.Overflow != DropMessages {
				break
			}
			continue
		}
		c.loop.batch.writeRef(frame) // pm's frames do not change; gnet copies what the socket does not take
		c.loop.stats.msgsOut.Add(1)
		c.loop.stats.bytesOut.Add(uint64(pm.size))
	}
	if c.loop.flush(c) && c.endAfterSend() {
		c.closeNow()
	}
}

// Hub is a set of WebSocket connections to broadcast to. Each event loop's members are
// kept apart and touched only by that loop, so Add, Remove and the delivery of a
// broadcast take no lock on the members, and a broadcast costs one task per loop, not
// per connection; while a loop is busy, later broadcasts join the queued task and each
// member gets them in one write.
type Hub struct {
	mu    sync.Mutex                 // taken to add a part
	parts atomic.Pointer[[]*hubPart] // one per loop that has had a member; replaced, never changed
}

type hubPart struct {
	l     *loop
	conns []*WSConn
	index map[*WSConn]int

	mu         sync.Mutex
	queued     []*PreparedMessage // broadcast, not yet taken by the loop
	scheduled  bool               // a delivery task is queued on the loop
	delivering []*PreparedMessage // loop only
	deliver    gnet.Runnable      // p.deliverQueued, made once
}

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
func (h *Hub) part(l *loop) *hubPart {
	find := func() *hubPart {
		for _, p := range h.list() {
			if p.l == l {
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
	p := &hubPart{l: l, index: make(map[*WSConn]int)}
	p.deliver = gnet.RunnableFunc(p.deliverQueued)
	old := h.list()
	list := append(old[:len(old):len(old)], p)
	h.parts.Store(&list)
	return p
}

// Add puts w in the hub. Loop only (typically in OnOpen).
func (h *Hub) Add(w *WSConn) {
	p := h.part(w.c.loop)
	if _, ok := p.index[w]; ok {
		return
	}
	p.index[w] = len(p.conns)
	p.conns = append(p.conns, w)
}

// Remove takes w out of the hub. Loop only (typically in OnClose).
func (h *Hub) Remove(w *WSConn) {
	p := h.part(w.c.loop)
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
}

// Broadcast sends pm to every member. Safe from any goroutine; delivery happens on each
// member's loop, in the order of the Broadcast calls, subject to each connection's send
// budget. pm must not change afterwards.
func (h *Hub) Broadcast(pm *PreparedMessage) {
	for _, p := range h.list() {
		p.enqueue(pm)
	}
}

func (p *hubPart) enqueue(pm *PreparedMessage) {
	p.mu.Lock()
	p.queued = append(p.queued, pm)
	schedule := !p.scheduled
	p.scheduled = true
	p.mu.Unlock()
	if schedule && p.l.el.Execute(context.Background(), p.deliver) != nil {
		// The loop is gone (the server shut down): nothing will take the queue, so it
		// must not grow.
		p.mu.Lock()
		clear(p.queued)
		p.queued, p.scheduled = p.queued[:0], false
		p.mu.Unlock()
	}
}

// deliverQueued runs on the part's loop: every member gets what was broadcast since the
// last delivery.
func (p *hubPart) deliverQueued(context.Context) error {
	p.mu.Lock()
	p.delivering, p.queued = p.queued, p.delivering[:0]
	p.scheduled = false
	p.mu.Unlock()
	// A write that fails closes its connection at once, and OnClose may take it out of
	// the hub, moving the last member into its place: visit that one too.
	for i := 0; i < len(p.conns); i++ {
		w := p.conns[i]
		w.writePrepared(p.delivering)
		if i < len(p.conns) && p.conns[i] != w {
			i--
		}
	}
	clear(p.delivering) // the messages may go
	return nil
}

// Len counts the members. Loop-consistent only; for reports.
func (h *Hub) Len() int {
	n := 0
	for _, p := range h.list() {
		n += len(p.conns)
	}
	return n
}
