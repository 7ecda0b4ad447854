package http2

import (
	"sync"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/valyala/bytebufferpool"
	"golang.org/x/net/http2/hpack"
)

// h2Stream is a stream that is open or half-closed (RFC 9113 §5.1). Idle streams have no
// struct (any ID above h2Conn.lastID is idle) and closed ones only an entry in the
// connection's closedRing. Streams come from a pool, so a connection between requests
// holds none.
type h2Stream struct {
	id uint32
	// recvDone: the client sent END_STREAM, so the stream is half-closed (remote) (§5.1).
	recvDone bool
	// responded: the response HEADERS are out; out holds DATA the windows did not admit.
	responded bool
	// streaming: the response goes in parts and its handler still runs; partWaits: the
	// handler waits for its last part to go (respstream.go).
	streaming, partWaits bool
	sentBody             int // body octets of the parts, for the access log
	// trailer holds the response's trailer fields (header lines) until its body has gone
	// (trailers.go).
	trailer *bytebufferpool.ByteBuffer

	sendWindow  int64 // the window the client granted for this stream (§6.9)
	recvWindow  int64 // what the client may still send on it
	recvUnacked int64 // body bytes consumed but not yet returned with WINDOW_UPDATE

	// The request head, kept while its body arrives: the decoder's copy is reused by the
	// next header block. The strings themselves are immutable and safe to keep.
	head   h2.RequestHead
	fields []hpack.HeaderField
	isHead bool
	// early: the request went to its handler before the client ended it (a plain
	// CONNECT, headers.go), so what else the client sends on the stream is discarded.
	early bool

	received int64 // DATA payload bytes, checked against content-length (§8.1.1)
	// bodyFrom is when the request's body began, its HEADERS (Conn.Now's clock), and
	// heldSince when the server began holding back the window the body needs (data.go):
	// the body's deadline counts from the one and not during the other (bodytimeout.go).
	bodyFrom, heldSince int64
	body                *bytebufferpool.ByteBuffer
	out                 *bytebufferpool.ByteBuffer
	outOff              int

	// car is set on an extended CONNECT stream that carries a child connection (RFC
	// 8441, extconnect.go); childUnread is the DATA delivered to it not yet consumed.
	car         *streamCarrier
	childUnread int

	// waitSince is when the stream's handler was handed to the worker pool (0: it is
	// not waiting for one; handlertimeout.go).
	waitSince int64

	// logged is what the access log records of the request, kept only while the server
	// has one, but for its time, which the request metrics use too (accesslog.go).
	logged accessNote
}

var h2StreamPool = sync.Pool{New: func() any { return new(h2Stream) }}

// openStream creates the state of a stream the client just opened.
func (h *h2Conn) openStream(id uint32) *h2Stream {
	s := h2StreamPool.Get().(*h2Stream)
	s.id = id
	s.sendWindow = int64(h.peer.InitialWindowSize)
	s.recvWindow = int64(h.cfg.StreamWindow)
	if !h.settingsAcked {
		// The client may not have applied our SETTINGS_INITIAL_WINDOW_SIZE yet: it can send
		// up to the default 65,535 octets, which §6.9.3 says must be accepted. settingsAck
		// takes the difference back.
		s.recvWindow = max(s.recvWindow, initialWindow)
	}
	h.streams = append(h.streams, s)
	h.def.opened(h)
	h.c.Counters().Streams.Add(1)
	return s
}

func (h *h2Conn) stream(id uint32) *h2Stream {
	for _, s := range h.streams {
		if s.id == id {
			return s
		}
	}
	return nil
}

// closeStream moves s to closed (§5.1): it leaves the active set, its ID is remembered as
// closed, and its buffers go back to their pools. byUs says the server reset it, after
// which frames the client had already sent on it are ignored (§5.1, "closed").
func (h *h2Conn) closeStream(s *h2Stream, byUs bool) {
	for i, x := range h.streams {
		if x == s {
			copy(h.streams[i:], h.streams[i+1:])
			h.streams[len(h.streams)-1] = nil
			h.streams = h.streams[:len(h.streams)-1]
			break
		}
	}
	h.recent.add(s.id, byUs)
	if s.waitSince != 0 && s.car == nil {
		h.handlerOutlives(s)
	}
	h.stopWaiting(s)
	if !s.responded || s.streaming {
		h.c.AbandonOffLoop(s.id) // a worker-pool handler may still be running for it
	}
	var child *server.Child
	if s.car != nil {
		child = h.detachChild(s)
	}
	h.releaseStream(s)
	if child != nil {
		child.Reset(server.ErrStreamReset) // a no-op when the child ended the stream itself
	}
	if h.goingAway && len(h.streams) == 0 {
		h.c.Close()
	}
}

func (h *h2Conn) releaseStream(s *h2Stream) {
	h.freeBody(s)
	if s.out != nil {
		bytebufferpool.Put(s.out)
	}
	if s.trailer != nil {
		bytebufferpool.Put(s.trailer)
	}
	clear(s.fields)
	*s = h2Stream{fields: s.fields[:0]}
	h2StreamPool.Put(s)
}

// freeBody returns s's request body buffer to its pool.
func (h *h2Conn) freeBody(s *h2Stream) {
	if s.body != nil {
		h.bufferedBody -= len(s.body.B)
		bytebufferpool.Put(s.body)
		s.body = nil
	}
}

// resetStream sends RST_STREAM (a stream error, §5.4.2) and closes the stream if it was
// active. An error code other than NO_ERROR and REFUSED_STREAM counts against the
// rapid-reset budget (defence.provoked).
func (h *h2Conn) resetStream(id uint32, code h2.ErrCode) {
	b := h2.AppendRSTStream(h.c.AppendBuffer(), id, code)
	h.c.Commit(b)
	switch code {
	case h2.ErrCodeNo, h2.ErrCodeRefusedStream:
	case h2.ErrCodeCancel: // the server's own choice (a timeout, a WebSocket's abnormal end)
		h.c.CountError(code.String())
	default: // a stream error the client caused
		h.c.CountError(code.String())
		h.def.provoked()
	}
	if s := h.stream(id); s != nil {
		h.closeStream(s, true)
	} else {
		h.recent.add(id, true)
	}
}

// discards reports whether what the client still sends on s is discarded: its request
// was answered (413, 431) or served (CONNECT) before it ended.
func (s *h2Stream) discards() bool { return s.responded || s.early }

// keepHead copies the decoder's RequestHead into s, which outlives the header block.
func (s *h2Stream) keepHead(head *h2.RequestHead) {
	s.head = *head
	s.fields = append(s.fields[:0], head.Fields...)
	s.head.Fields = s.fields
	s.isHead = head.Method == "HEAD"
}

// closedRing remembers the last closed streams. RFC 9113 §5.1 needs to tell a closed
// stream (a frame on it is STREAM_CLOSED) from one that was never opened and is closed
// only implicitly (a new HEADERS on it breaks §5.1.1's ordering: PROTOCOL_ERROR); and
// frames on streams the server reset are ignored. A fixed ring bounds the memory: a
// stream older than the ring is treated as never opened, which is still a connection
// error, only with the other code.
type closedRing struct {
	ids  [32]uint32
	byUs [32]bool
	next uint8
}

func (r *closedRing) add(id uint32, byUs bool) {
	i := r.next % uint8(len(r.ids))
	r.ids[i], r.byUs[i] = id, byUs
	r.next++
}

// lookup reports whether id closed recently and whether the server reset it.
func (r *closedRing) lookup(id uint32) (found, byUs bool) {
	for i, x := range r.ids {
		if x == id && id != 0 {
			return true, r.byUs[i]
		}
	}
	return false, false
}
