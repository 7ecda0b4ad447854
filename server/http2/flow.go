package http2

import (
	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/valyala/bytebufferpool"
)

// sendBody sends a response body as DATA frames within the client's flow-control windows
// and SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.9, §4.2). What the windows do not admit yet is
// copied into a pooled buffer owned by the stream and sent as WINDOW_UPDATEs arrive; the
// stream stays half-closed until then.
func (h *h2Conn) sendBody(s *h2Stream, body []byte) {
	n := h.writeData(s, body)
	if n == len(body) {
		h.bodyDone(s)
		return
	}
	s.out = bytebufferpool.Get()
	s.out.B = append(s.out.B[:0], body[n:]...)
	s.outOff = 0
}

// sendPending sends more of a stream's queued body after a window opened. DATA that goes
// is progress: the deadline is re-armed for a client that reads a large response through
// small windows, not for one that grants window with nothing waiting.
func (h *h2Conn) sendPending(s *h2Stream) {
	window := h.sendWindow
	if s.car != nil {
		h.sendChildPending(s)
	} else {
		rest := s.out.B[s.outOff:]
		n := h.writeData(s, rest)
		s.outOff += n
		if n == len(rest) {
			h.drained(s)
		}
	}
	h.progress = h.progress || h.sendWindow < window
}

// flushBlocked offers the connection window to every stream with queued DATA, oldest
// first, after the connection window or the initial stream window grew.
func (h *h2Conn) flushBlocked() {
	for i := 0; i < len(h.streams) && h.sendWindow > 0; {
		s := h.streams[i]
		if s.out == nil {
			i++
			continue
		}
		before := len(h.streams)
		h.sendPending(s)
		if len(h.streams) == before { // s is still open: move on
			i++
		}
	}
}

// writeData appends DATA frames carrying a prefix of p as far as the windows allow, the
// last one with END_STREAM when it ends p, and returns how much it sent. The payload is
// copied into the batch: the stream's buffer may return to its pool before the flush.
func (h *h2Conn) writeData(s *h2Stream, p []byte) int {
	if h.holdData {
		return 0
	}
	maxFrame := int64(h.peer.MaxFrameSize)
	sent := 0
	for sent < len(p) {
		n := min(int64(len(p)-sent), maxFrame, h.sendWindow, s.sendWindow)
		if n <= 0 {
			break
		}
		chunk := p[sent : sent+int(n)]
		// A child's stream ends with the child, a streamed response with its last part,
		// and one with trailers with them.
		end := sent+int(n) == len(p) && s.car == nil && !s.streaming && s.trailer == nil
		b := h2.AppendDataHeader(h.c.AppendBuffer(), s.id, uint32(n), end)
		h.c.Commit(append(b, chunk...))
		sent += int(n)
		h.sendWindow -= n
		s.sendWindow -= n
	}
	return sent
}

// finishResponse closes the stream once its response has ended. A response sent before
// the request ended (413, 431) is followed by RST_STREAM NO_ERROR, which asks the client
// to stop sending the request without an error (§8.1).
func (h *h2Conn) finishResponse(s *h2Stream) {
	if !s.recvDone {
		h.c.Commit(h2.AppendRSTStream(h.c.AppendBuffer(), s.id, h2.ErrCodeNo))
		h.closeStream(s, true)
		return
	}
	h.closeStream(s, false)
}
