package http2

import (
	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/valyala/bytebufferpool"
)

// A worker-pool handler may send its response in parts (server.ResponseWriter.Flush):
// HEADERS without END_STREAM and without content-length first, then each part as DATA
// within the windows, and END_STREAM with the last. A part the windows do not admit waits
// in the stream's out buffer, and the handler waits with it (server.PartAnswerer) until
// that has gone; the core holds it besides while the connection is over its send budget.
// So a client that grants no window, or reads nothing, holds the handler back rather
// than the server's memory. Each part counts as progress against HandlerTimeout, past
// which the stream is reset (CANCEL): its head has gone, so a 503 can no longer be sent.

// AnswerPart sends a part of r's response on its stream, on the loop.
func (h *h2Conn) AnswerPart(r *server.Request, w *server.ResponseWriter) (goOn bool) {
	s := h.stream(r.StreamID)
	if s == nil || s.responded && !s.streaming {
		return true // reset or timed out: the handler has been told (closeStream)
	}
	if !s.streaming {
		s.streaming = true
		h.writeHead(s, w, -1, false)
	}
	s.waitSince = max(sinceEpoch(), 1) // a part is progress
	body := h.bodyOf(s, w)
	s.sentBody += len(body)
	h.queueData(s, body)
	if s.out == nil {
		return true
	}
	s.partWaits = true // the window holds the rest: drained lets the handler go on
	return false
}

// endStream sends the last part of a streamed response, when its handler has returned: a
// handler that failed after its head went gets RST_STREAM INTERNAL_ERROR, so that the
// client sees the response cut short.
func (h *h2Conn) endStream(s *h2Stream, w *server.ResponseWriter) {
	s.streaming, s.partWaits = false, false
	if w.Broken() {
		h.c.Commit(h2.AppendRSTStream(h.c.AppendBuffer(), s.id, h2.ErrCodeInternal))
		h.closeStream(s, true)
		return
	}
	body := h.bodyOf(s, w)
	h.keepTrailers(s, w)
	h.c.CountResponse(2, w.Status(), s.logged.from, 0)
	if h.c.AccessLogging() {
		h.logAccess(s, w.Status(), s.sentBody+len(body), "")
	}
	switch {
	case s.out != nil: // the rest goes after what waits, with END_STREAM (sendPending)
		s.out.B = append(s.out.B, body...)
	case len(body) == 0 && s.trailer != nil:
		h.bodyDone(s)
	case len(body) == 0:
		h.c.Commit(h2.AppendDataHeader(h.c.AppendBuffer(), s.id, 0, true))
		h.finishResponse(s)
	default:
		h.sendBody(s, body)
	}
}

// bodyOf is the body of w that goes on s: none for HEAD or a status without content.
func (h *h2Conn) bodyOf(s *h2Stream, w *server.ResponseWriter) []byte {
	if s.isHead || bodyless(w.Status()) {
		return nil
	}
	return w.Body()
}

// queueData sends p on s within the windows and keeps the rest in s.out.
func (h *h2Conn) queueData(s *h2Stream, p []byte) {
	if s.out == nil {
		n := h.writeData(s, p)
		if n == len(p) {
			return
		}
		p = p[n:]
		s.out = bytebufferpool.Get()
		s.out.B, s.outOff = s.out.B[:0], 0
	}
	s.out.B = append(s.out.B, p...)
}

// drained acts on s's queued DATA having all gone: the response is complete, or a part
// of a streamed one is, and its handler may go on.
func (h *h2Conn) drained(s *h2Stream) {
	if !s.streaming {
		h.bodyDone(s)
		return
	}
	bytebufferpool.Put(s.out)
	s.out = nil
	h.wakePart(s)
}

// wakePart lets s's handler go on once the part the window held back has gone.
func (h *h2Conn) wakePart(s *h2Stream) {
	if s.partWaits && s.out == nil {
		s.partWaits = false
		h.c.ResumeFlush(s.id)
	}
}
