package http2

import (
	"math"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// A stream whose handler runs on the worker pool (or whose extended CONNECT is being
// decided there, RFC 8441) waits for the server, not for the client, so it does not count toward the connection's progress timeout (BodyTimeout):
// a slow handler must not cost the client its connection. Each is bounded instead by
// server.Config.HandlerTimeout from its hand-out, as an HTTP/1.1 request is: past it the
// stream is answered 503, its handler is abandoned (a NetHTTP context is cancelled) and
// its late answer dropped, and the connection serves on.

// epoch is the origin of the streams' hand-out times (monotonic).
var epoch = time.Now()

func sinceEpoch() int64 { return int64(time.Since(epoch)) }

// handedOut records that s's handler (or its upgrade's decision) runs on the worker pool
// from now.
func (h *h2Conn) handedOut(s *h2Stream) {
	s.waitSince = max(sinceEpoch(), 1)
	h.awaiting++
}

// stopWaiting records that s waits for its handler no more: answered, timed out or closed.
func (h *h2Conn) stopWaiting(s *h2Stream) {
	if s.waitSince != 0 {
		s.waitSince = 0
		h.awaiting--
	}
}

// handlerOutlives records that s closes (reset by the client or by the server) while its
// handler still runs on the worker pool: the handler is abandoned but runs on, so the
// stream keeps counting against SETTINGS_MAX_CONCURRENT_STREAMS until its answer is back
// on the loop (handlerReturned). Otherwise a client could reset its requests, or make the
// server reset them (MadeYouReset, CVE-2025-8671), and have any number of handlers run
// at once. Go's x/net likewise counts a stream's handler until it returns.
func (h *h2Conn) handlerOutlives(s *h2Stream) {
	h.outliving = append(h.outliving, s.id)
}

// handlerReturned frees the slot of a stream that closed while its handler ran, once the
// handler's answer is back; an answer for any other stream leaves the list as it is.
func (h *h2Conn) handlerReturned(id uint32) {
	for i, x := range h.outliving {
		if x == id {
			h.outliving = append(h.outliving[:i], h.outliving[i+1:]...)
			return
		}
	}
}

// concurrent is what counts against SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2): the open
// streams and the closed ones whose handlers still run.
func (h *h2Conn) concurrent() int { return len(h.streams) + len(h.outliving) }

// handlerDeadline is the time left until the earliest HandlerTimeout of the streams that
// wait for their handlers; ok is false when none waits.
func (h *h2Conn) handlerDeadline() (left time.Duration, ok bool) {
	if h.awaiting == 0 {
		return 0, false
	}
	first := int64(math.MaxInt64)
	for _, s := range h.streams {
		if s.waitSince != 0 {
			first = min(first, s.waitSince)
		}
	}
	return max(time.Duration(first+int64(h.cfg.handlerTimeout)-sinceEpoch()), time.Millisecond), true
}

// timeOutHandlers answers 503 on every stream whose handler has outlived
// HandlerTimeout, and reports whether there was one.
func (h *h2Conn) timeOutHandlers() bool {
	if h.awaiting == 0 {
		return false
	}
	now, answered := sinceEpoch(), false
	h.busy = true
	for i := 0; i < len(h.streams); {
		s := h.streams[i]
		if s.waitSince != 0 && time.Duration(now-s.waitSince) >= h.cfg.handlerTimeout {
			h.stopWaiting(s)
			h.c.AbandonOffLoop(s.id)
			if s.car != nil { // an extended CONNECT whose upgrade was being decided
				h.detachChild(s).Reset(server.ErrStreamReset)
			}
			h.answerText(s, 503, "the handler did not answer within the server's HandlerTimeout")
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

// onlyWaiting reports whether every open stream waits for the server: a WebSocket's
// (which watches its own peer) or one whose handler is out.
func (h *h2Conn) onlyWaiting() bool {
	for _, s := range h.streams {
		if s.car == nil && s.waitSince == 0 {
			return false
		}
	}
	return true
}
