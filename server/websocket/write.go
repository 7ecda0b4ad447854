package websocket

import (
	"context"
	"sync"
	"unsafe"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
)

// Write sends a message from a callback, on the loop: the frames one read produces leave
// in one write. p is copied unless it is the payload OnMessage is delivering (then it is
// written without a copy). Past the send budget the route's Overflow policy applies and
// Write returns ErrDropped. Loop only: from other goroutines use WriteAsync.
//
// On a route with Handler.UseWorkerPool, Write is WriteAsync (p is copied; the frame goes
// out through the loop, after what the connection's earlier callbacks wrote), so it is
// safe from the callbacks on the pool and from any goroutine.
func (w *Conn) Write(op OpCode, p []byte) error {
	if w.rt.UseWorkerPool {
		return w.WriteAsync(op, p)
	}
	if w.state >= stateCloseSent {
		return ErrClosed
	}
	c := w.c
	if w.overBudget(len(p)) {
		return w.overflow()
	}
	w.countOut(len(p))
	if d := w.deflate; d != nil && len(p) >= w.rt.CompressThreshold {
		scratch := w.rt.scratch.Get(c)
		scratch.deflate = d.deflater().Compress(scratch.deflate[:0], p)
		b := ws.AppendHeader(c.AppendBuffer(), true, ws.OpCode(op), true, len(scratch.deflate))
		c.Commit(append(b, scratch.deflate...))
		return nil
	}
	c.Commit(ws.AppendHeader(c.AppendBuffer(), true, ws.OpCode(op), false, len(p)))
	if len(p) > 0 && within(p, w.rt.scratch.Get(c).current) {
		c.WriteRef(p)
	} else {
		c.Write(p)
	}
	return nil
}

func (w *Conn) countOut(n int) {
	counters := w.c.Counters()
	counters.MessagesOut.Add(1)
	counters.BytesOut.Add(uint64(n))
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

// overBudget reports whether n more bytes would take what is queued for w (this turn's
// output and what the socket has not taken) past the send budget. Loop only.
func (w *Conn) overBudget(n int) bool {
	return overBudget(int64(w.c.Unsent()), int64(n), int64(w.rt.SendBudget))
}

// overflow is the one place the route's policy meets a data message past the send
// budget, whichever way it was sent: it counts the drop and, unless the policy drops,
// closes with its code (on the loop; from elsewhere through the loop).
func (w *Conn) overflow() error {
	w.countDrop()
	if code, ok := w.rt.overflowCode(); ok {
		w.close(code, "send budget exceeded")
	}
	return ErrDropped
}

func (w *Conn) countDrop() {
	w.dropped.Add(1)
	w.c.Counters().Dropped.Add(1)
}

func (rt *route) overflowCode() (StatusCode, bool) {
	switch rt.Overflow {
	case CloseTryAgainLater:
		return StatusTryAgainLater, true
	case ClosePolicyViolation:
		return StatusPolicyViolation, true
	}
	return 0, false
}

// Close starts the close handshake from the server's side with code and reason (RFC 6455
// §7.1.2); the connection closes when the peer answers or CloseTimeout passes. A code that
// may not be sent (1005, 1006, 1015, 0-999, 1016-2999) closes without one, so without the
// reason; a reason is cut to 123 bytes and before any byte that is not UTF-8. Loop only:
// from other goroutines use CloseAsync. On a route with Handler.UseWorkerPool, Close is
// CloseAsync, safe from the callbacks on the pool and from any goroutine.
func (w *Conn) Close(code StatusCode, reason string) {
	if w.rt.UseWorkerPool {
		_ = w.CloseAsync(code, reason)
		return
	}
	w.close(code, reason)
}

// close is Close on the loop.
func (w *Conn) close(code StatusCode, reason string) {
	if w.state >= stateCloseSent {
		return
	}
	w.closing.Store(true)
	var buf [ws.MaxControlPayload]byte
	w.writeControl(ws.OpClose, ws.AppendClose(buf[:0], ws.StatusCode(code), reason))
	w.state = stateCloseSent
	w.discardMessage()
	w.c.SetDeadline(w.rt.CloseTimeout)
}

// CloseAsync is Close from any goroutine. Writes from then on return ErrClosed (as after
// Close on the loop): no data frame follows the close frame (RFC 6455 §5.5.1).
func (w *Conn) CloseAsync(code StatusCode, reason string) error {
	if !w.closing.CompareAndSwap(false, true) {
		return nil
	}
	return w.c.Execute(func(*server.Conn) { w.close(code, reason) })
}

// asyncFrame is one message framed for WriteAsync, and the loop task that writes it: a
// pooled asyncFrame costs no allocation per message.
type asyncFrame struct {
	b []byte
	w *Conn
	n int // the message's payload length, for the counters
	// comp and def compress a message on its own (no context takeover), reused with the
	// asyncFrame so that a compressed WriteAsync makes no compressor or buffer per message.
	comp []byte
	def  *ws.Deflater
	lvl  int
}

var asyncFramePool sync.Pool

func init() { asyncFramePool.New = func() any { return new(asyncFrame) } }

func (f *asyncFrame) recycle() {
	f.w = nil
	if cap(f.b) > 64<<10 {
		f.b, f.comp = nil, nil
	}
	asyncFramePool.Put(f)
}

// WriteAsync sends a message from any goroutine; p is copied, so the caller may reuse it
// at once. Past the send budget the route's Overflow policy applies and WriteAsync returns
// ErrDropped. Once the connection's close frame is queued (by Close or CloseAsync, in
// answer to the peer's close, or on a protocol error) or it has closed, WriteAsync returns
// ErrClosed, as Write does: no data frame is sent after a close frame (RFC 6455 §5.5.1).
// A message accepted while the close was being queued on the loop is dropped there.
// Messages that wait for a busy loop leave together, in one write.
func (w *Conn) WriteAsync(op OpCode, p []byte) error {
	if w.closing.Load() {
		return ErrClosed
	}
	if overBudget(int64(w.backlog.Load())+int64(w.queued.Load()), int64(len(p)), int64(w.rt.SendBudget)) {
		w.countDrop()
		if code, ok := w.rt.overflowCode(); ok {
			_ = w.CloseAsync(code, "send budget exceeded")
		}
		return ErrDropped
	}
	f := asyncFramePool.Get().(*asyncFrame)
	f.w = w
	if w.deflate.freshCompressionOK() && len(p) >= w.rt.CompressThreshold {
		if f.def == nil || f.lvl != w.deflate.params.Level {
			f.def, f.lvl = ws.NewDeflater(w.deflate.params.Level, 15, false), w.deflate.params.Level
		}
		f.comp = f.def.Compress(f.comp[:0], p)
		f.b = ws.AppendFrame(f.b[:0], true, ws.OpCode(op), true, f.comp)
	} else {
		f.b = ws.AppendFrame(f.b[:0], true, ws.OpCode(op), false, p)
	}
	f.n = len(p)
	w.queued.Add(int32(len(f.b)))
	// A task of its own writes the frame rather than Conn.WriteAsync, so that it can
	// see there whether the close frame went out after this check of closing: a write
	// accepted just before the close is queued must not follow it on the wire.
	if w.c.Loop().Run(f) != nil {
		w.queued.Add(-int32(len(f.b)))
		f.recycle()
		return ErrClosed
	}
	return nil
}

// Run writes the frame on the loop, unless the close frame has gone out or the
// connection is closing since WriteAsync accepted it (RFC 6455 §5.5.1: no data frame
// after the close frame): then the message is dropped. A burst of frames to one
// connection leaves in one write (server.Conn.WriteTask).
func (f *asyncFrame) Run(context.Context) error {
	w, c := f.w, f.w.c
	if w.state < stateCloseSent && !c.Closing() {
		w.countOut(f.n)
		c.WriteTask(f.b)
	}
	w.queued.Add(-int32(len(f.b)))
	w.backlog.Store(int32(c.Unsent()))
	f.recycle()
	return nil
}
