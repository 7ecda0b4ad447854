package server

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/switchyard-dev/switchyard/parser"
	"github.com/valyala/bytebufferpool"
)

// h1State is an HTTP/1.1 request in progress on one connection. It is taken from a pool
// when a request starts and returned when it has been answered, so keep-alive connections
// between requests, and upgraded ones, hold none.
type h1State struct {
	parser  parser.Parser
	chunked parser.ChunkedDecoder
	// buf holds the head and the body received so far when a body spans several reads; the
	// head is parsed again from it once the body is complete.
	buf       *bytebufferpool.ByteBuffer
	inBody    bool
	headLen   int
	bodyLeft  int64 // Content-Length bytes still to come
	isChunked bool
	started   bool // the header timeout is running
	start     time.Time
}

var h1Pool = sync.Pool{New: func() any { return new(h1State) }}

const continue100 = "HTTP/1.1 100 Continue\r\n\r\n"

func (c *Conn) takeHTTP1() *h1State {
	if c.h1 == nil {
		st := h1Pool.Get().(*h1State)
		st.parser.Limits = c.srv.cfg.Limits
		st.chunked.Limits = &c.srv.cfg.Limits
		c.h1 = st
	}
	return c.h1
}

func (c *Conn) releaseHTTP1() {
	st := c.h1
	if st == nil {
		return
	}
	c.h1 = nil
	if st.buf != nil {
		bytebufferpool.Put(st.buf)
	}
	*st = h1State{parser: st.parser, chunked: st.chunked}
	st.parser.Reset()
	st.chunked.Reset()
	h1Pool.Put(st)
}

// serveHTTP1 makes progress on one request in `in` and returns the bytes it consumed.
func (c *Conn) serveHTTP1(in []byte) (int, error) {
	st := c.takeHTTP1()
	if st.inBody {
		return c.readBody(st, in)
	}
	if !st.started {
		st.started = true
		c.SetDeadline(c.srv.cfg.HeaderTimeout)
	}
	req := &c.loop.req
	n, err := st.parser.Parse(in, req)
	switch {
	case err == nil:
	case errors.Is(err, parser.ErrIncomplete):
		if st.start.IsZero() {
			// The head spans reads: its first byte came now. (A head that arrives whole,
			// the usual case, is timed from its parse, so plain requests pay no clock read.)
			st.start = time.Now()
		}
		return 0, nil
	case errors.Is(err, parser.ErrPreface):
		return c.startPriorKnowledge()
	default:
		if c.notHTTP1Preface(in) {
			return len(in), errCloseConn
		}
		var perr *parser.Error
		if !errors.As(err, &perr) {
			perr = &parser.Error{Status: 400, Reason: err.Error()}
		}
		c.reject(perr.Status, "", perr.Reason)
		return len(in), errCloseConn
	}

	switch {
	case req.Chunked:
		st.inBody, st.isChunked, st.headLen = true, true, n
		st.buf = bytebufferpool.Get()
		_, _ = st.buf.Write(in[:n])
		st.chunked.Reset()
		if req.Expect100 && len(in) == n {
			c.WriteString(continue100)
		}
		c.SetDeadline(c.srv.cfg.BodyTimeout)
		m, err := c.readBody(st, in[n:])
		return n + m, err
	case req.ContentLength > 0:
		if avail := int64(len(in) - n); avail >= req.ContentLength {
			end := n + int(req.ContentLength)
			return end, c.dispatch(req, in[:n], in[n:end])
		}
		// The body spans reads: keep the head with it, since the views die with this read.
		st.inBody, st.headLen = true, n
		st.bodyLeft = req.ContentLength - int64(len(in)-n)
		st.buf = bytebufferpool.Get()
		_, _ = st.buf.Write(in)
		if req.Expect100 && len(in) == n {
			c.WriteString(continue100)
		}
		c.SetDeadline(c.srv.cfg.BodyTimeout)
		return len(in), nil
	}
	return n, c.dispatch(req, in[:n], nil)
}

// readBody collects body bytes of the request in st.
func (c *Conn) readBody(st *h1State, in []byte) (int, error) {
	if !st.isChunked {
		m := int(min(int64(len(in)), st.bodyLeft))
		_, _ = st.buf.Write(in[:m])
		st.bodyLeft -= int64(m)
		if m > 0 {
			c.SetDeadline(c.srv.cfg.BodyTimeout)
		}
		if st.bodyLeft > 0 {
			return m, nil
		}
		return m, c.finishBody(st)
	}
	pos := 0
	for {
		n, data, done, err := st.chunked.Decode(in[pos:])
		pos += n
		if err != nil {
			var perr *parser.Error
			if !errors.As(err, &perr) {
				perr = &parser.Error{Status: 400, Reason: err.Error()}
			}
			c.reject(perr.Status, "", perr.Reason)
			return len(in), errCloseConn
		}
		if len(data) > 0 {
			if int64(len(st.buf.B)-st.headLen+len(data)) > c.srv.cfg.Limits.MaxBodyBytes {
				c.reject(413, "", "request body exceeds the server's limit of "+
					strconv.FormatInt(c.srv.cfg.Limits.MaxBodyBytes, 10)+" bytes")
				return len(in), errCloseConn
			}
			_, _ = st.buf.Write(data)
		}
		if done {
			return pos, c.finishBody(st)
		}
		if n == 0 {
			if pos > 0 {
				c.SetDeadline(c.srv.cfg.BodyTimeout)
			}
			return pos, nil
		}
	}
}

// finishBody re-parses the kept head so its views point into buf, and dispatches.
func (c *Conn) finishBody(st *h1State) error {
	req := &c.loop.req
	st.parser.Reset()
	head := st.buf.B[:st.headLen]
	if _, err := st.parser.Parse(head, req); err != nil {
		c.reject(500, "", "internal error: request head changed while reading its body")
		return errCloseConn
	}
	return c.dispatch(req, head, st.buf.B[st.headLen:])
}

// dispatch answers one complete request: an upgrade, a handler's response or an error.
// head is the request head's bytes, body its body (both views).
func (c *Conn) dispatch(req *parser.Request, head, body []byte) error {
	c.served = true
	route := c.srv.route(req.Path)
	hr := &c.loop.hreq
	hr.fromHTTP1(c, req, body)
	c.loop.stats.requests.Add(1)
	if route == nil {
		// Server-wide upgraders (h2c) apply to paths without a route too, such as the
		// "OPTIONS *" nghttp upgrades with (RFC 7540 §3.2 allows any request).
		if hr.wantsUpgrade() && len(c.srv.global) > 0 {
			switch c.negotiate(&noRoute, hr) {
			case upgraded:
				return nil
			case answered:
				return c.endRequest(req)
			}
		}
		c.respond(req, 404, "", "", "no route for this path")
		return c.endRequest(req)
	}
	if hr.wantsUpgrade() || route.requiresUpgrade() {
		switch c.negotiate(route, hr) {
		case upgraded:
			return nil
		case answered:
			return c.endRequest(req)
		}
	}
	if route.UseWorkerPool {
		c.submit(route.HTTP, req, head, body)
		return c.endRequest(req)
	}
	w := &c.loop.resp
	w.reset()
	route.HTTP(w, hr)
	c.writeResponse(req, w)
	return c.endRequest(req)
}

// endRequest returns the request state to its pool and arms the keep-alive timeout, or
// closes the connection when the request asked for that.
func (c *Conn) endRequest(req *parser.Request) error {
	c.releaseHTTP1()
	if !c.keepAlive(req) {
		return errCloseConn
	}
	if !c.busy {
		c.SetDeadline(c.srv.cfg.IdleTimeout)
	}
	return nil
}

// writeResponse serialises w for HTTP/1.x into the batch.
func (c *Conn) writeResponse(req *parser.Request, w *ResponseWriter) {
	status := w.Status()
	b := c.AppendBuffer()
	b = appendStatusLine(b, status)
	b = c.appendCommonHeaders(b, req.KeepAlive, req.ProtoMinor, "")
	b = appendFields(b, w)
	b = appendContentLength(b, status, len(w.body))
	b = append(b, "\r\n"...)
	c.Commit(b)
	if !bodyless(status) && !isHead(req.Method) {
		// Copied: the loop reuses w for the next pipelined request before the flush.
		c.Write(w.body)
	}
}

func appendFields(b []byte, w *ResponseWriter) []byte {
	for i := range w.fields {
		name, value := w.Field(i)
		b = append(b, name...)
		b = append(b, ": "...)
		b = append(b, value...)
		b = append(b, "\r\n"...)
	}
	return b
}

func appendContentLength(b []byte, status, n int) []byte {
	if bodyless(status) {
		return b
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "\r\n"...)
}

func isHead(method []byte) bool { return string(method) == "HEAD" }

// appendCommonHeaders appends Date, Server and the Connection header: the options the
// response needs (opt, e.g. "Upgrade" on a 426) plus close or keep-alive as the version
// and the request ask (RFC 9112 §9.3), in one field.
func (c *Conn) appendCommonHeaders(b []byte, keepAlive bool, minor int, opt string) []byte {
	b = append(b, "Date: "...)
	b = append(b, c.srv.clock.dateHeader()...)
	b = append(b, "\r\n"...)
	if name := c.srv.cfg.ServerName; name != "" {
		b = append(b, "Server: "...)
		b = append(b, name...)
		b = append(b, "\r\n"...)
	}
	persist := ""
	switch {
	case !keepAlive || c.srv.draining.Load():
		persist = "close"
	case minor == 0:
		persist = "keep-alive"
	}
	if opt == "" && persist == "" {
		return b
	}
	b = append(b, "Connection: "...)
	b = append(b, opt...)
	if opt != "" && persist != "" {
		b = append(b, ", "...)
	}
	b = append(b, persist...)
	return append(b, "\r\n"...)
}

// reject answers with status and a body that says why, then closes: the request could not
// be parsed, so nothing after it on the connection can be trusted. extraHeader lines end
// in CRLF.
func (c *Conn) reject(status int, extraHeader, reason string) {
	b := c.AppendBuffer()
	b = appendStatusLine(b, status)
	b = c.appendCommonHeaders(b, false, 1, "")
	b = append(b, extraHeader...)
	b = append(b, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(reason)+1), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, reason...)
	b = append(b, '\n')
	c.Commit(b)
	kind := "malformed_request"
	if status == 408 {
		kind = "timeout"
	}
	c.loop.stats.outcome(status, kind)
	c.srv.logReject(c, status, reason)
}

// keepAlive reports whether the connection stays open after req: not when the request
// says close (RFC 9112 §9.3) nor while the server shuts down.
func (c *Conn) keepAlive(req *parser.Request) bool {
	return req.KeepAlive && !c.srv.draining.Load()
}

// timeoutHTTP1 handles an expired HTTP/1.1 deadline: a slow head or body gets 408, an idle
// keep-alive connection is closed quietly (RFC 9112 §9.5).
func (c *Conn) timeoutHTTP1() {
	if c.busy {
		return
	}
	st := c.h1
	if st != nil && (st.inBody || (st.started && c.gc.InboundBuffered() > 0)) {
		c.reject(408, "", "the request was not received in time (header or body timeout)")
	}
	c.closing = true
}

// startPriorKnowledge hands a connection that opened with the HTTP/2 preface to HTTP/2.
func (c *Conn) startPriorKnowledge() (int, error) {
	if c.served || c.srv.prior == nil {
		c.reject(505, "", "HTTP/2 with prior knowledge is not accepted here")
		return 0, errCloseConn
	}
	c.releaseHTTP1()
	c.SetDeadline(0)
	c.setKind(kindHTTP2)
	c.proto = c.srv.prior(c)
	c.proto.Start(c, nil)
	return 0, nil
}
