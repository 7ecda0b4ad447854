package http2

import (
	"math"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/valyala/bytebufferpool"
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
// from now. The handler got its own copy of the request body (server.Conn.HandleOffLoop),
// so the stream's buffer goes back to its pool at once; the copy's bytes stay counted in
// bufferedBody until the handler returns (handlerReturned), however the stream ends
// meanwhile (reset, timed out), since the copy lives as long as the handler runs.
func (h *h2Conn) handedOut(s *h2Stream) {
	s.waitSince = max(sinceEpoch(), 1)
	h.awaiting++
	if s.body != nil {
		if n := len(s.body.B); n > 0 {
			h.poolBodies = append(h.poolBodies, poolBody{s.id, n})
		}
		bytebufferpool.Put(s.body) // still counted in bufferedBody: now as the job's copy
		s.body = nil
	}
}

// poolBody is the size of a request body a worker-pool handler holds, by stream.
type poolBody struct {
	id uint32
	n  int
}

// poolHolds reports whether a worker-pool handler still holds the body of stream id.
func (h *h2Conn) poolHolds(id uint32) bool {
	for _, p := range h.poolBodies {
		if p.id == id {
			return true
		}
	}
	return false
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

// handlerReturned runs when a worker-pool handler's answer is back: the slot of its
// stream, if that closed while the handler ran, is free, and so is the body the handler
// held. freed reports that bufferedBody went down (replenish may return windows).
func (h *h2Conn) handlerReturned(id uint32) (freed bool) {
	for i, x := range h.outliving {
		if x == id {
			h.outliving = append(h.outliving[:i], h.outliving[i+1:]...)
			break
		}
	}
	for i, p := range h.poolBodies {
		if p.id == id {
			h.bufferedBody -= p.n
			h.poolBodies = append(h.poolBodies[:i], h.poolBodies[i+1:]...)
			return true
		}
	}
	return false
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

// handlerOverdue reports whether s's handler has outlived HandlerTimeout; now is
// sinceEpoch's.
func (h *h2Conn) handlerOverdue(s *h2Stream, now int64) bool {
	return s.waitSince != 0 && time.Duration(now-s.waitSince) >= h.cfg.handlerTimeout
}

// abandonHandler answers 503 on s, whose handler has outlived HandlerTimeout: the server
// stops waiting for it.
func (h *h2Conn) abandonHandler(s *h2Stream) {
	h.stopWaiting(s)
	if s.id == h.exempt {
		// The exemption may move on (data.go). Its body stays counted until it returns.
		h.exempt = 0
	}
	h.c.AbandonOffLoop(s.id)
	if s.car != nil { // an extended CONNECT whose upgrade was being decided
		h.detachChild(s).Reset(server.ErrStreamReset)
	}
	if s.streaming { // its head has gone: the reset says the response was cut short
		h.c.LogRefusal(503, "the handler sent no part of its response within the server's HandlerTimeout")
		h.resetStream(s.id, h2.ErrCodeCancel)
		return
	}
	h.answerText(s, 503, "the handler did not answer within the server's HandlerTimeout")
}
