package http2

import (
	"math"
	"time"
)

// A request body has the deadline server.Config.BodyTimeout gives it over HTTP/1.1:
// BodyTimeout from its start (its HEADERS), extended by the time what has arrived takes at
// MinBodyRate, so a client that sends at that rate on average is never cut off. Past it
// the stream is answered 408, which ends it (with RST_STREAM NO_ERROR while the client's
// side is open, §8.1), and the connection serves on. The connection's progress timeout
// alone let one stalled upload live as long as other streams moved. The deadlines cost no
// timer: the connection's one deadline is armed for the earliest (armDeadline). While
// the server holds back the window a body needs (past MaxBufferedBody, data.go) the wait
// is the server's, and does not count.

const errBodyTimeout = "the request body did not arrive within the server's BodyTimeout"

// bodyDue is when s's body is due (Conn.Now's clock), or 0 when it has no deadline: its
// body is complete, it was answered, it carries a child, or the server holds its window.
func (h *h2Conn) bodyDue(s *h2Stream) int64 {
	if s.bodyFrom == 0 || s.heldSince != 0 || !s.buffering() {
		return 0
	}
	return s.bodyFrom + int64(h.cfg.bodyTimout) + s.received*int64(time.Second)/h.cfg.minBodyRate
}

// bodyDeadline is the time left until the earliest body deadline; ok is false when no
// stream has one.
func (h *h2Conn) bodyDeadline() (left time.Duration, ok bool) {
	first := int64(math.MaxInt64)
	for _, s := range h.streams {
		if due := h.bodyDue(s); due != 0 {
			first = min(first, due)
		}
	}
	if first == math.MaxInt64 {
		return 0, false
	}
	return max(time.Duration(first-h.c.Now()), time.Millisecond), true
}

// timeOutStreams answers every stream past a deadline of its own: 503 for a handler that
// outlived HandlerTimeout (handlertimeout.go), 408 for an overdue body. It reports
// whether there was one.
func (h *h2Conn) timeOutStreams() bool {
	handlerNow, bodyNow, answered := sinceEpoch(), h.c.Now(), false
	h.busy = true
	for i := 0; i < len(h.streams); {
		s := h.streams[i]
		if h.handlerOverdue(s, handlerNow) {
			h.abandonHandler(s)
			answered = true
		} else if due := h.bodyDue(s); due != 0 && bodyNow >= due {
			h.answerText(s, 408, errBodyTimeout)
			answered = true
		}
		if i < len(h.streams) && h.streams[i] == s { // answering may have closed it
			i++
		}
	}
	h.busy = false
	if answered {
		h.replenish() // their bodies are freed
	}
	return answered
}

// timed reports whether every open stream has a deadline of its own, so that the
// connection needs no progress timeout: a WebSocket's (it pings its peer), a worker-pool
// handler's (HandlerTimeout) or a request body's. A header block in progress has none.
func (h *h2Conn) timed() bool {
	if h.blk.kind != blockNone {
		return false
	}
	for _, s := range h.streams {
		if s.car == nil && s.waitSince == 0 && h.bodyDue(s) == 0 {
			return false
		}
	}
	return true
}
