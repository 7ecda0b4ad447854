package http2

import (
	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
)

// accessNote is what the access log (server.Config.AccessLog) and the request metrics
// (server.Conn.CountResponse) record of a stream's request, taken when its HEADERS were
// complete: the response may come from a worker, a timeout or a refusal long after the
// decoder's head is gone. The strings are the decoder's own, immutable, so keeping them
// copies nothing.
type accessNote struct {
	from                     int64 // server.Conn.Now when the read that completed the head began (readAt)
	method, target, protocol string
}

// noteRequest takes what the access log records of head (nil: a header list too large to
// keep, of which only the timing is known). Without an access log it takes only the
// time, for the request metrics.
func (h *h2Conn) noteRequest(head *h2.RequestHead) accessNote {
	n := accessNote{from: h.readAt}
	if head != nil && h.c.AccessLogging() {
		n.method, n.target, n.protocol = head.Method, head.Path, head.Protocol
		if head.Path == "" {
			n.target = head.Authority // a plain CONNECT's target (fillRequest)
		}
	}
	return n
}

// logAccess writes the access-log line of s's request, answered with status and bytes
// of body; upgrade names the protocol an extended CONNECT's 200 opened. Its callers check
// AccessLogging first.
func (h *h2Conn) logAccess(s *h2Stream, status, bytes int, upgrade string) {
	n := &s.logged
	h.c.LogAccess(server.Access{Proto: "HTTP/2.0", Method: n.method, Target: n.target,
		Status: status, Bytes: bytes, From: n.from, Upgrade: upgrade})
}
