package http2

import (
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/headerlines"
	"github.com/valyala/bytebufferpool"
)

// A response's trailer fields (server.ResponseWriter.Trailer) end its stream as a HEADERS
// frame after the last DATA (RFC 9113 §8.1), as gRPC's grpc-status does. They are encoded
// when they go, not when the handler returns: the body may wait for window first, and
// HPACK's dynamic table must see header blocks in the order they are sent (RFC 7541
// §2.3.2), so the stream keeps their lines until then.

// keepTrailers keeps w's trailers on s, unless the response has no content to end with
// them (HEAD, 204, 304).
func (h *h2Conn) keepTrailers(s *h2Stream, w *server.ResponseWriter) {
	t := w.Trailers()
	if len(t) == 0 || s.isHead || bodyless(w.Status()) {
		return
	}
	s.trailer = bytebufferpool.Get()
	s.trailer.B = append(s.trailer.B[:0], t...)
}

// bodyDone ends a response whose body has all gone: with its trailers, if it has any,
// whose HEADERS carry END_STREAM (the DATA did not).
func (h *h2Conn) bodyDone(s *h2Stream) {
	if t := s.trailer; t != nil {
		enc := h.henc
		enc.Reset()
		headerlines.Each(t.B, func(name, value []byte) {
			if !connectionSpecific(name) {
				enc.WriteFieldBytes(name, value)
			}
		})
		h.c.Commit(enc.AppendHeaders(h.c.AppendBuffer(), s.id, true, h.peer.MaxFrameSize))
		bytebufferpool.Put(t)
		s.trailer = nil
	}
	h.finishResponse(s)
}
