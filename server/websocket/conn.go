package websocket

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
)

// Conn is an upgraded WebSocket connection, as its callbacks see it. Methods whose names
// end in Async are safe from any goroutine, as are the accessors of what was settled at
// the handshake (Subprotocol, Compressed) and Dropped; the rest are loop only (call them
// from the callbacks).
//
// Memory: an idle Conn is this struct alone. The message assembler and the compressor
// state are taken from pools while in use: single-frame messages go through the loop's
// assembler, and only a connection with a fragmented message in flight holds one of its
// own.
type Conn struct {
	c       *server.Conn
	rt      *route
	asm     *ws.Assembler // a fragmented message in progress; nil otherwise
	deflate *deflateState // nil unless permessage-deflate was negotiated

	closeReason string
	value       any

	closing     atomic.Bool  // our close frame is queued or skipped, or the connection is gone
	queued      atomic.Int32 // bytes handed to WriteAsync not yet written
	backlog     atomic.Int32 // the connection's unsent output as the loop last saw it
	dropped     atomic.Uint32
	closeCode   ws.StatusCode
	discarding  bool  // after our close frame, a fragmented message being discarded is open
	inflated    int32 // bytes inflated in the current turn, against inflateTurnBudget
	state       state
	subprotocol uint8 // 1 + the index of the chosen one in the route's Subprotocols; 0: none
	// Handler.UseWorkerPool (offloop.go): off says, on the loop, whether a callback job
	// is out and what waits for it; onClose is set once OnClose has been handed out,
	// whichever goroutine did it.
	off     offFlags
	onClose atomic.Bool
}

// session is Conn as the server.Protocol that reads the connection's frames. A type of
// its own keeps the protocol's methods out of Conn's API.
type session Conn

// loopScratch is what a loop's connections share: the assembler of single-frame
// messages, the payload OnMessage is being handed when it is a view of the input (which
// Write may then send without a copy), and a buffer for compressing.
type loopScratch struct {
	asm     ws.Assembler
	current []byte
	deflate []byte
}

var asmPool = sync.Pool{New: func() any { return new(ws.Assembler) }}

// inflateTurnBudget bounds the bytes one connection inflates in one turn of its loop:
// past it the connection yields, and its next messages are inflated after the loop's
// other connections have been served (about a millisecond of CPU per turn).
const inflateTurnBudget = 1 << 20

type state uint8

const (
	stateOpen      state = iota
	statePingSent        // silent too long: pinged, waiting for any frame
	stateCloseSent       // our close frame is out; waiting for the peer's
	stateClosed
)

// Start arms the ping timer and tells the handler.
func (s *session) Start(c *server.Conn, _ *server.Request) {
	c.SetDeadline(s.rt.PingInterval)
	switch {
	case s.rt.OnOpen == nil:
	case s.rt.UseWorkerPool:
		(*Conn)(s).offLoopOpen()
	default:
		s.rt.OnOpen((*Conn)(s))
	}
}

// Serve decodes every whole frame in `in` (RFC 6455 §5). A frame that has not fully
// arrived stays in the core's input accumulator, each byte copied once; its size was
// checked against MaxMessageSize when its header arrived.
func (s *session) Serve(c *server.Conn, in []byte) (int, error) {
	w := (*Conn)(s)
	pos := 0
	if w.state == statePingSent {
		w.state = stateOpen
	}
	if w.state == stateOpen {
		c.SetDeadline(w.rt.PingInterval)
	}
	w.backlog.Store(int32(c.Unsent()))
	w.inflated = 0
	rules := ws.ServerRules(w.deflate != nil)
	for pos < len(in) && w.state != stateClosed && !c.Saturated() {
		if w.inflated >= inflateTurnBudget {
			c.Yield()
			break
		}
		h, n, err := ws.DecodeHeader(in[pos:], rules)
		if err == ws.ErrIncomplete {
			break
		}
		if err != nil {
			w.fail(asWSError(err))
			break
		}
		if w.off&offBusy != 0 && !h.OpCode.IsControl() {
			// A callback runs on the worker pool: the next message waits for it to
			// return, in the kernel rather than here (offloop.go).
			w.off |= offHeld
			c.Hold()
			break
		}
		// Control frames too: RSV1 is legal only on the first frame of a data message
		// (RFC 7692 §6.1), and DecodeHeader allows it on any frame once deflate is on.
		if e := w.check(h); e != nil {
			w.fail(e)
			break
		}
		total := int64(n) + h.Length
		if int64(len(in)-pos) < total {
			break // wait for the rest
		}
		payload := in[pos+n : pos+int(total)]
		ws.Unmask(payload, h.Mask, 0)
		pos += int(total)
		w.frame(h, payload)
	}
	if w.state == stateClosed {
		return len(in), server.ErrClose
	}
	return pos, nil
}

// check validates the next frame's header against the message in progress, before its
// payload has arrived (Assembler.Check). After our close frame, data frames are checked
// against the message boundaries that discardFrame tracks.
func (w *Conn) check(h ws.Header) *ws.Error {
	if w.state != stateCloseSent || h.OpCode.IsControl() {
		return w.assembler().Check(h)
	}
	switch {
	case h.OpCode == ws.OpContinuation && !w.discarding:
		return ws.ErrUnexpectedContinuation
	case h.OpCode != ws.OpContinuation && w.discarding:
		return ws.ErrExpectedContinuation
	case h.Rsv&ws.RSV1 != 0 && (h.OpCode == ws.OpContinuation || w.deflate == nil):
		return ws.ErrCompressedBit // RFC 7692 §6.1
	case h.Length > int64(w.rt.MaxMessageSize):
		// The frame would have to be held whole before it is dropped.
		return ws.ErrMessageTooBig
	}
	return nil
}

// discardFrame drops a data frame that arrives after our close frame: the peer may have
// sent it before it saw ours, and it is discarded (RFC 6455 §1.4, §7.1.2) until the
// peer's close completes the handshake. Nothing of it is buffered or inflated; only
// whether it leaves a message open is kept, so that the frames that follow are checked
// against the right message boundaries (a continuation is no protocol error here, and
// bad framing still is).
func (w *Conn) discardFrame(h ws.Header) { w.discarding = !h.Fin }

// discardMessage lets go of the fragments of a message in progress when our close frame
// is queued: the rest of the message will be discarded.
func (w *Conn) discardMessage() {
	if a := w.asm; a != nil && a.InProgress() {
		a.Reset()
		w.asm = nil
		asmPool.Put(a)
		w.discarding = true
	}
}

// assembler returns the Assembler for the next frame: the connection's own while a
// fragmented message is in progress, else the loop's, which serves every connection's
// single-frame messages so that idle connections hold none.
func (w *Conn) assembler() *ws.Assembler {
	if w.asm != nil {
		return w.asm
	}
	a := &w.rt.scratch.Get(w.c).asm
	a.MaxMessageSize, a.Compression, a.MaxInflateRatio = w.rt.MaxMessageSize, w.deflate != nil, w.rt.MaxInflateRatio
	return a
}

// keepFragments moves a message left in progress on the loop's Assembler into one of the
// connection's own, since the loop's serves other connections next.
func (w *Conn) keepFragments(a *ws.Assembler) {
	if w.asm == nil && a.InProgress() {
		own := asmPool.Get().(*ws.Assembler)
		*own = *a // takes over the fragment buffer
		*a = ws.Assembler{}
		w.asm = own
	}
}

// dropAssembler returns the connection's own Assembler once its message is done.
func (w *Conn) dropAssembler() {
	if a := w.asm; a != nil && !a.InProgress() {
		a.Reset()
		w.asm = nil
		asmPool.Put(a)
	}
}

func asWSError(err error) *ws.Error {
	var e *ws.Error
	if errors.As(err, &e) {
		return e
	}
	return &ws.Error{Code: ws.StatusProtocolError, Reason: err.Error()}
}

// frame handles one whole, unmasked frame.
func (w *Conn) frame(h ws.Header, payload []byte) {
	switch h.OpCode {
	case ws.OpPing:
		if w.state == stateOpen {
			w.writeControl(ws.OpPong, payload) // at once, even inside a fragmented message (§5.5.2)
		}
		if w.rt.OnPing != nil {
			w.rt.OnPing(w, payload)
		}
		return
	case ws.OpPong:
		if w.rt.OnPong != nil {
			w.rt.OnPong(w, payload)
		}
		return
	case ws.OpClose:
		w.peerClosed(payload)
		return
	}
	if w.state == stateCloseSent {
		w.discardFrame(h)
		return
	}
	a := w.assembler()
	msg, complete, err := a.Frame(h, payload)
	if err != nil {
		w.dropAssembler()
		w.fail(err)
		return
	}
	if !complete {
		w.keepFragments(a)
		return
	}
	fromInput := !msg.Compressed && h.OpCode != ws.OpContinuation
	if msg.Compressed {
		if msg, err = a.Inflate(msg, w.deflate.inflater()); err != nil {
			w.dropAssembler()
			w.fail(err)
			return
		}
		w.inflated += int32(len(msg.Payload))
	}
	counters := w.c.Counters()
	counters.MessagesIn.Add(1)
	counters.BytesIn.Add(uint64(len(msg.Payload)))
	switch {
	case w.rt.OnMessage == nil:
	case w.rt.UseWorkerPool:
		w.offLoopMessage(OpCode(msg.Op), msg.Payload)
	default:
		scratch := w.rt.scratch.Get(w.c)
		if fromInput {
			scratch.current = msg.Payload
		}
		w.rt.OnMessage(w, Message{Op: OpCode(msg.Op), Payload: msg.Payload})
		scratch.current = nil
	}
	a.Release()
	w.dropAssembler()
}

// peerClosed answers the peer's close frame (RFC 6455 §5.5.1, §7.4) and closes the TCP
// connection: the server closes it first (§7.1.1).
func (w *Conn) peerClosed(payload []byte) {
	code, reason, err := ws.ParseClose(payload)
	if err != nil {
		w.fail(err)
		return
	}
	w.closeCode, w.closeReason = code, string(reason)
	w.closing.Store(true) // no data frame after our close (RFC 6455 §5.5.1)
	if w.state != stateCloseSent {
		if code == ws.StatusNoStatusRcvd {
			w.writeControl(ws.OpClose, nil)
		} else {
			var buf [ws.MaxControlPayload]byte
			w.writeControl(ws.OpClose, ws.AppendClose(buf[:0], code, ""))
		}
	}
	w.state = stateClosed
}

// fail sends a close frame with the error's code and ends the connection (§7.1.7).
func (w *Conn) fail(e *ws.Error) {
	w.closing.Store(true) // no data frame after our close (RFC 6455 §5.5.1)
	if w.state < stateCloseSent {
		var buf [ws.MaxControlPayload]byte
		w.writeControl(ws.OpClose, ws.AppendClose(buf[:0], e.Code, e.Reason))
	}
	w.closeCode, w.closeReason = ws.StatusAbnormalClosure, e.Reason
	w.state = stateClosed
}

// writeControl queues a control frame. Control frames are never dropped; they count
// against the core's send budget, which stops reading a peer that does not read them.
func (w *Conn) writeControl(op ws.OpCode, payload []byte) {
	b := w.c.AppendBuffer()
	b = ws.AppendFrame(b, true, op, false, payload)
	w.c.Commit(b)
}

// Timeout pings a silent peer, gives up on one that stays silent, and ends a close
// handshake the peer does not finish.
func (s *session) Timeout(c *server.Conn) {
	w := (*Conn)(s)
	if w.off&offBusy != 0 && w.state < stateCloseSent {
		// The connection is held while its callback runs on the worker pool: the
		// silence is the server's, and a pong would not be read before it returns.
		c.SetDeadline(w.rt.PingInterval)
		return
	}
	switch w.state {
	case stateOpen:
		w.writeControl(ws.OpPing, nil)
		w.state = statePingSent
		c.SetDeadline(w.rt.PongTimeout)
	default:
		w.closeCode, w.closeReason = ws.StatusAbnormalClosure, "timeout"
		w.closing.Store(true)
		w.state = stateClosed
		c.Close()
	}
}

// Drain starts the close handshake with 1001 (Going Away, RFC 6455 §7.4.1) when the
// server shuts down; the connection closes when the peer answers or CloseTimeout passes.
func (s *session) Drain(*server.Conn) {
	(*Conn)(s).close(StatusGoingAway, "server shutting down")
}

// Closed releases everything and tells the handler.
func (s *session) Closed(*server.Conn, error) {
	w := (*Conn)(s)
	w.closing.Store(true)
	code, reason := w.closeCode, w.closeReason
	if code == 0 {
		code = ws.StatusAbnormalClosure
	}
	w.state = stateClosed
	if w.asm != nil {
		w.asm.Reset()
		asmPool.Put(w.asm)
		w.asm = nil
	}
	w.deflate.release()
	switch {
	case w.rt.UseWorkerPool:
		w.closeCode = code
		w.offLoopClose() // after the callback still out, if any
	case w.rt.OnClose != nil:
		w.rt.OnClose(w, StatusCode(code), reason)
	}
}

// Subprotocol is the negotiated subprotocol, or "".
func (w *Conn) Subprotocol() string {
	if w.subprotocol == 0 {
		return ""
	}
	return w.rt.Subprotocols[w.subprotocol-1]
}

// Compressed reports whether permessage-deflate was negotiated.
func (w *Conn) Compressed() bool { return w.deflate != nil }

// Value returns the value Handler.Authorize returned, or the one stored with SetValue
// since (ValueOf returns it typed). Loop only; with Handler.UseWorkerPool, from OnOpen,
// OnMessage and OnClose, which never run at once.
func (w *Conn) Value() any { return w.value }

// SetValue stores a user value with the connection. Loop only; with
// Handler.UseWorkerPool, from OnOpen, OnMessage and OnClose.
func (w *Conn) SetValue(v any) { w.value = v }

// Conn is the underlying connection.
func (w *Conn) Conn() *server.Conn { return w.c }

// Dropped counts the messages the send budget's policy dropped. Safe from any goroutine.
func (w *Conn) Dropped() uint64 { return uint64(w.dropped.Load()) }
