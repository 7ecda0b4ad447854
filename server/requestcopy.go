package server

import (
	"github.com/switchyard-dev/switchyard/parser"
	"github.com/valyala/bytebufferpool"
)

// requestCopy is an HTTP/1.1 request carried to a worker goroutine: the loop's views die
// with the turn, so the head and body are copied and the head is parsed again there. The
// worker-pool handler (poolJob) and the upgrade decided off the loop (laterJob) share it.
type requestCopy struct {
	in      *bytebufferpool.ByteBuffer
	headLen int
	match   pathMatch // the route's pattern and path values: the copy's Path is the same bytes
	from    int64     // when the request began, for the access log and metrics (http1.startedAt)
	parser  parser.Parser
	req     parser.Request
	hreq    Request
}

// fill copies the request and the route's match, and keeps from (when it began).
func (rc *requestCopy) fill(c *Conn, match pathMatch, from int64, head, body []byte) {
	rc.match, rc.from = match, from
	rc.in = bytebufferpool.Get()
	rc.in.B = append(append(rc.in.B, head...), body...)
	rc.headLen = len(head)
	rc.parser.Limits = c.srv.cfg.Limits
}

// parse parses the copy again, on the worker, and makes rc.hreq the request the code
// there sees: whole, but without its connection, which is not that code's to touch.
func (rc *requestCopy) parse(c *Conn) bool {
	rc.parser.Reset()
	if _, err := rc.parser.Parse(rc.in.B[:rc.headLen], &rc.req); err != nil {
		return false
	}
	rc.hreq.fromHTTP1(c, &rc.req, rc.in.B[rc.headLen:])
	rc.hreq.conn = nil
	rc.hreq.match = rc.match
	return true
}

// reset returns the copy's buffer and keeps what is worth reusing (the parser and the
// request's header slots).
func (rc *requestCopy) reset() {
	if rc.in != nil {
		bytebufferpool.Put(rc.in)
	}
	*rc = requestCopy{parser: rc.parser, req: rc.req}
}
