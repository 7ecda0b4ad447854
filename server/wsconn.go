package server

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// WSConn is an upgraded WebSocket connection. Methods documented as safe from any
// goroutine may be called anywhere; the rest only from its callbacks (on the loop).
//
// Memory: an idle WSConn is this struct alone (96 bytes). The message assembler, a large
// frame's buffer and the compressor state are taken from pools while in use: single-frame
// messages go through the loop's assembler, and only a connection with a fragmented
// message in flight holds one of its own.
type WSConn struct {
	c       *Conn
	rt      *wsRoute
	asm     *ws.Assembler // a fragmented message in progress; nil otherwise
	big     *bigFrame     // a frame too large to wait for in gnet's buffer; nil otherwise
	deflate *deflateState // nil unless permessage-deflate was negotiated

	closeReason string
	value       any

	closing     atomic.Bool  // our close frame is queued, or the connection is gone
	queued      atomic.Int32 // bytes handed to AsyncWrite not yet written
	backlog     atomic.Int32 // the connection's outbound backlog as the loop last saw it
	dropped     atomic.Uint32
	closeCode   ws.StatusCode
	state       wsState
	subprotocol uint8 // 1 + the index of the chosen one in the route's Subprotocols; 0: none
}

// bigFrame collects, unmasked, the payload of a frame too large to wait for whole.
type bigFrame struct {
	buf  []byte
	hdr  ws.Header
	left int64
}

var (
	bigFramePool = sync.Pool{New: func() any { return new(bigFrame) }}
	asmPool      = sync.Pool{New: func() any { return new(ws.Assembler) }}
)

// maxRetainedBigFrame bounds the buffer a pooled bigFrame keeps after a large message.
const maxRetainedBigFrame = 1 << 20

type wsState uint8

const (
	wsOpen      wsState = iota
	wsPingSent          // silent too long: pinged, waiting for any frame
	wsCloseSent         // our close frame is out; waiting for the peer's
	wsClosed
)

// streamThreshold is the frame size from which a frame's payload is collected as it
// arrives instead of waiting in gnet's buffer, which would copy the whole partial frame
// again on every read (quadratic for a 16 MiB frame).
const streamThreshold = 64 << 10

// ErrClosed is returned by sends on a connection that is closing or closed.
var ErrClosed = errors.New("switchyard: websocket connection closed")

// ErrDropped is returned when a message was dropped by the send budget's policy.
var ErrDropped = errors.New("switchyard: message dropped: the connection's send budget is full")

func (w *WSConn) Start(c *Conn, r *Request) {
	c.SetDeadline(w.rt.PingInterval)
	if w.rt.OnOpen != nil {
		w.rt.OnOpen(w)
	}
}

// Serve decodes every whole frame in `in` (RFC 6455 §5).
func (w *WSConn) Serve(c *Conn, in []byte) (int, error) {
	pos := 0
	if w.state == wsPingSent {
		w.state = wsOpen
	}
	if w.state == wsOpen {
		c.SetDeadline(w.rt.PingInterval)
	}
	w.backlog.Store(int32(c.gc.OutboundBuffered()))
	rules := ws.ServerRules(w.deflate != nil)
	for pos < len(in) && w.state != wsClosed {
		if big := w.big; big != nil {
			pos += big.collect(in[pos:])
			if big.left > 0 {
				break
			}
			w.frame(big.hdr, big.buf)
			w.big = nil
			if cap(big.buf) > maxRetainedBigFrame {
				big.buf = nil
			}
			big.buf = big.buf[:0]
			bigFramePool.Put(big)
			continue
		}
		h, n, err := ws.DecodeHeader(in[pos:], rules)
		if err == ws.ErrIncomplete {
			break
		}
		if err != nil {
			w.fail(asWSError(err))
			break
		}
		// Control frames too: RSV1 is legal only on the first frame of a data message
		// (RFC 7692 §6.1), and DecodeHeader allows it on any frame once deflate is on.
		if e := w.assembler().Check(h); e != nil {
			w.fail(e)
			break
		}
		total := int64(n) + h.Length
		if int64(len(in)-pos) >= total {
			payload := in[pos+n : pos+int(total)]
			ws.Unmask(payload, h.Mask, 0)
			pos += int(total)
			w.frame(h, payload)
			continue
		}
		if total < streamThreshold {
			break // wait for the rest in gnet's buffer
		}
		pos += n
		big := bigFramePool.Get().(*bigFrame)
		big.hdr, big.left = h, h.Length
		w.big = big
	}
	if w.state == wsClosed {
		return len(in), errCloseConn
	}
	return pos, nil
}

// collect appends the next bytes of a large frame's payload, unmasked.
func (b *bigFrame) collect(in []byte) int {
	n := int(min(int64(len(in)), b.left))
	start := len(b.buf)
	b.buf = append(b.buf, in[:n]...)
	ws.Unmask(b.buf[start:], b.hdr.Mask, start)
	b.left -= int64(n)
	return n
}

// assembler returns the Assembler for the next frame: the connection's own while a
// fragmented message is in progress, else the loop's, which serves every connection's
// single-frame messages so that idle connections hold none.
func (w *WSConn) assembler() *ws.Assembler {
	if w.asm != nil {
		return w.asm
	}
	a := &w.c.loop.wsAsm
	a.MaxMessageSize, a.Compression = w.rt.MaxMessageSize, w.deflate != nil
	return a
}

// keepFragments moves a message left in progress on the loop's Assembler into one of the
// connection's own, since the loop's serves other connections next.
func (w *WSConn) keepFragments(a *ws.Assembler) {
	if w.asm == nil && a.InProgress() {
		own := asmPool.Get().(*ws.Assembler)
		*own = *a // takes over the fragment buffer
		*a = ws.Assembler{}
		w.asm = own
	}
}

// dropAssembler returns the connection's own Assembler once its message is done.
func (w *WSConn) dropAssembler() {
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
func (w *WSConn) frame(h ws.Header, payload []byte) {
	switch h.OpCode {
	case ws.OpPing:
		if w.state == wsOpen {
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
	if w.state == wsCloseSent {
		return // after our close frame, data is ignored (RFC 6455 §1.4)
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
	fromInput := !msg.Compressed && w.big == nil && h.OpCode != ws.OpContinuation
	if msg.Compressed {
		if msg, err = a.Inflate(msg, w.deflate.inflater()); err != nil {
			w.dropAssembler()
			w.fail(err)
			return
		}
		w.deflate.afterInflate()
	}
	ls := &w.c.loop.stats
	ls.msgsIn.Add(1)
	ls.bytesIn.Add(uint64(len(msg.Payload)))
	if w.rt.OnMessage != nil {
		if fromInput {
			w.c.loop.wsCurrent = msg.Payload
		}
		w.rt.OnMessage(w, Message{Op: msg.Op, Payload: msg.Payload})
		w.c.loop.wsCurrent = nil
	}
	a.Release()
	w.dropAssembler()
}

// peerClosed answers the peer's close frame (RFC 6455 §5.5.1, §7.4) and closes the TCP
// connection: the server closes it first (§7.1.1).
func (w *WSConn) peerClosed(payload []byte) {
	code, reason, err := ws.ParseClose(payload)
	if err != nil {
		w.fail(err)
		return
	}
	w.closeCode, w.closeReason = code, string(reason)
	if w.state != wsCloseSent {
		if code == ws.StatusNoStatusRcvd {
			w.writeControl(ws.OpClose, nil)
		} else {
			var buf [ws.MaxControlPayload]byte
			w.writeControl(ws.OpClose, ws.AppendClose(buf[:0], code, ""))
		}
	}
	w.state = wsClosed
}

// fail sends a close frame with the error's code and ends the connection (§7.1.7).
func (w *WSConn) fail(e *ws.Error) {
	if w.state < wsCloseSent {
		var buf [ws.MaxControlPayload]byte
		w.writeControl(ws.OpClose, ws.AppendClose(buf[:0], e.Code, e.Reason))
	}
	w.closeCode, w.closeReason = ws.StatusAbnormalClosure, e.Reason
	w.state = wsClosed
}

// writeControl queues a control frame on the loop's batch; it bypasses the send budget.
func (w *WSConn) writeControl(op ws.OpCode, payload []byte) {
	b := w.c.AppendBuffer()
	b = ws.AppendFrame(b, true, op, false, payload)
	w.c.Commit(b)
}

// Timeout pings a silent peer, gives up on one that stays silent, and ends a close
// handshake the peer does not finish.
func (w *WSConn) Timeout(c *Conn) {
	switch w.state {
	case wsOpen:
		w.writeControl(ws.OpPing, nil)
		w.state = wsPingSent
		c.SetDeadline(w.rt.PongTimeout)
	default:
		w.closeCode, w.closeReason = ws.StatusAbnormalClosure, "timeout"
		w.state = wsClosed
		c.Close()
	}
}

// Closed releases everything and tells the handler.
func (w *WSConn) Closed(c *Conn, err error) {
	w.closing.Store(true)
	code, reason := w.closeCode, w.closeReason
	if code == 0 {
		code = ws.StatusAbnormalClosure
	}
	w.state = wsClosed
	if w.asm != nil {
		w.asm.Reset()
		asmPool.Put(w.asm)
		w.asm = nil
	}
	if w.big != nil {
		w.big.buf = w.big.buf[:0]
		bigFramePool.Put(w.big)
		w.big = nil
	}
	w.deflate.release()
	if w.rt.OnClose != nil {
		w.rt.OnClose(w, code, reason)
	}
}

// Subprotocol is the negotiated subprotocol, or "".
func (w *WSConn) Subprotocol() string {
	if w.subprotocol == 0 {
		return ""
	}
	return w.rt.Subprotocols[w.subprotocol-1]
}

// Compressed reports whether permessage-deflate was negotiated.
func (w *WSConn) Compressed() bool { return w.deflate != nil }

// Value returns the user value stored with SetValue. Loop only.
func (w *WSConn) Value() any { return w.value }

// SetValue stores a user value with the connection. Loop only.
func (w *WSConn) SetValue(v any) { w.value = v }

// Conn is the underlying connection.
func (w *WSConn) Conn() *Conn { return w.c }

// Dropped counts the messages the send budget's policy dropped. Safe from any goroutine.
func (w *WSConn) Dropped() uint64 { return uint64(w.dropped.Load()) }
