package server

import (
	"errors"
	"sync/atomic"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/valyala/bytebufferpool"
)

// WSConn is an upgraded WebSocket connection. Methods documented as safe from any
// goroutine may be called anywhere; the rest only from its callbacks (on the loop).
type WSConn struct {
	c     *Conn
	rt    *wsRoute
	rules ws.Rules
	asm   ws.Assembler

	// A frame too large to wait for in gnet's buffer is collected (unmasked) here.
	big     *bytebufferpool.ByteBuffer
	bigHdr  ws.Header
	bigLeft int64

	deflate *deflateState // nil unless permessage-deflate was negotiated

	state       wsState
	closeCode   ws.StatusCode
	closeReason string
	// current is the payload being delivered to OnMessage when it is a view of the input,
	// which Reply may then send without copying.
	current []byte

	closing atomic.Bool  // our close frame is queued, or the connection is gone
	queued  atomic.Int64 // bytes handed to AsyncWrite not yet written
	backlog atomic.Int64 // the connection's outbound backlog as the loop last saw it
	dropped atomic.Uint64

	subprotocol string
	value       any
}

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
	w.backlog.Store(int64(c.gc.OutboundBuffered()))
	for pos < len(in) && w.state != wsClosed {
		if w.big != nil {
			pos += w.collect(in[pos:])
			if w.bigLeft > 0 {
				break
			}
			payload := w.big.B
			w.frame(w.bigHdr, payload)
			bytebufferpool.Put(w.big)
			w.big = nil
			continue
		}
		h, n, err := ws.DecodeHeader(in[pos:], w.rules)
		if err == ws.ErrIncomplete {
			break
		}
		if err != nil {
			w.fail(asWSError(err))
			break
		}
		// Control frames too: RSV1 is legal only on the first frame of a data message
		// (RFC 7692 §6.1), and DecodeHeader allows it on any frame once deflate is on.
		if e := w.asm.Check(h); e != nil {
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
		w.big = bytebufferpool.Get()
		w.big.B = w.big.B[:0]
		w.bigHdr, w.bigLeft = h, h.Length
	}
	if w.state == wsClosed {
		return len(in), errCloseConn
	}
	return pos, nil
}

// collect appends the next bytes of a large frame's payload, unmasked.
func (w *WSConn) collect(in []byte) int {
	n := int(min(int64(len(in)), w.bigLeft))
	start := len(w.big.B)
	w.big.B = append(w.big.B, in[:n]...)
	ws.Unmask(w.big.B[start:], w.bigHdr.Mask, start)
	w.bigLeft -= int64(n)
	return n
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
	msg, complete, err := w.asm.Frame(h, payload)
	if err != nil {
		w.fail(err)
		return
	}
	if !complete {
		return
	}
	fromInput := !msg.Compressed && w.big == nil && h.OpCode != ws.OpContinuation
	if msg.Compressed {
		if msg, err = w.asm.Inflate(msg, w.deflate.inflater()); err != nil {
			w.fail(err)
			return
		}
		w.deflate.afterInflate()
	}
	if w.rt.OnMessage != nil {
		if fromInput {
			w.current = msg.Payload
		}
		w.rt.OnMessage(w, Message{Op: msg.Op, Payload: msg.Payload})
		w.current = nil
	}
	w.asm.Release()
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
	w.asm.Reset()
	if w.big != nil {
		bytebufferpool.Put(w.big)
		w.big = nil
	}
	w.deflate.release()
	if w.rt.OnClose != nil {
		w.rt.OnClose(w, code, reason)
	}
}

// Subprotocol is the negotiated subprotocol, or "".
func (w *WSConn) Subprotocol() string { return w.subprotocol }

// Compressed reports whether permessage-deflate was negotiated.
func (w *WSConn) Compressed() bool { return w.deflate != nil }

// Value returns the user value stored with SetValue. Loop only.
func (w *WSConn) Value() any { return w.value }

// SetValue stores a user value with the connection. Loop only.
func (w *WSConn) SetValue(v any) { w.value = v }

// Conn is the underlying connection.
func (w *WSConn) Conn() *Conn { return w.c }

// Dropped counts the messages the send budget's policy dropped. Safe from any goroutine.
func (w *WSConn) Dropped() uint64 { return w.dropped.Load() }
