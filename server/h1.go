package server

import (
	"bytes"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server/internal/headerlines"
	"github.com/valyala/bytebufferpool"
)

// http1 is HTTP/1.1 (RFC 9112) as a Protocol: every connection speaks it first, and
// leaves it by an upgrade (RFC 9110 §7.8) or by HTTP/2's prior-knowledge preface. It
// lives in the core package because routes, upgrade negotiation and the worker pool are
// the server's own, but it reaches the connection only through the Protocol contract.
type http1 struct {
	c  *Conn
	st *h1State // the request in progress; nil between requests
	// served: at least one request was answered, so a preface is no longer acceptable.
	served bool
	// busy: a worker-pool handler owns the current request; input waits for it.
	busy bool
	// gaveUp: the worker-pool work outlived HandlerTimeout and was answered 503; its late
	// answer is dropped.
	gaveUp bool
	// later: the upgrade Upgrade deferred with Conn.UpgradeOffLoop, during negotiate.
	later *laterJob
	// streamed: the busy handler's response has begun (h1stream.go).
	streamed bool
}

// h1State is an HTTP/1.1 request in progress on one connection. It is taken from a pool
// when a request starts and returned when it has been answered, so keep-alive connections
// between requests, and upgraded ones, hold none.
type h1State struct {
	parser  parser.Parser
	chunked parser.ChunkedDecoder
	// buf holds the head and the decoded body of a chunked request; the head is parsed
	// again from it once the body is complete. A Content-Length body that spans reads
	// needs no copy: it waits in the core's input accumulator until it is whole.
	buf     *bytebufferpool.ByteBuffer
	inBody  bool // a chunked body is being decoded
	headLen int
	waiting int  // input length when a Content-Length body was last found incomplete
	whole   int  // head and Content-Length body, once the body was found incomplete
	started bool // the header timeout is running
	sent100 bool // 100 Continue was sent for this request
	// bodyFrom is the clock's nanoseconds when the body began (armBodyDeadline).
	bodyFrom int64
	// startAt is the clock's nanoseconds when the request's first bytes were served: where
	// the access log's duration and the request metrics (Conn.CountResponse) start, as
	// nginx's $request_time does.
	startAt int64
	start   time.Time
}

var h1Pool = sync.Pool{New: func() any { return new(h1State) }}

const continue100 = "HTTP/1.1 100 Continue\r\n\r\n"

// newHTTP1 starts a connection in HTTP/1.1. A new connection owes a request head: the
// header timeout bounds clients that connect and send nothing.
func newHTTP1(c *Conn) *http1 {
	c.SetDeadline(c.srv.cfg.HeaderTimeout)
	return &http1{c: c}
}

// Start is part of the Protocol contract; a connection begins in HTTP/1.1 without one.
func (h *http1) Start(*Conn, *Request) {}

func (h *http1) take() *h1State {
	if h.st == nil {
		st := h1Pool.Get().(*h1State)
		st.parser.Limits = h.c.srv.cfg.Limits
		st.chunked.Limits = &h.c.srv.cfg.Limits
		h.st = st
	}
	return h.st
}

func (h *http1) release() {
	st := h.st
	if st == nil {
		return
	}
	h.st = nil
	if st.buf != nil {
		bytebufferpool.Put(st.buf)
	}
	*st = h1State{parser: st.parser, chunked: st.chunked}
	st.parser.Reset()
	st.chunked.Reset()
	h1Pool.Put(st)
}

// Serve makes progress on one request in `in` and returns the bytes it consumed. While a
// worker-pool handler runs, it consumes nothing: the input waits (bounded by the core's
// input budget) and responses stay in order.
func (h *http1) Serve(c *Conn, in []byte) (int, error) {
	if h.busy || c.closing {
		return 0, nil
	}
	st := h.take()
	if st.inBody {
		return h.readBody(st, in)
	}
	if st.whole > 0 && len(in) < st.whole {
		// A Content-Length body still arriving: the head is parsed again only once the
		// request is whole, so a body in many small reads costs no parse per read.
		h.bodyProgress(st, len(in))
		return 0, nil
	}
	if !st.started {
		st.started = true
		if st.startAt = c.deadlineIn(c.srv.cfg.HeaderTimeout); st.startAt == 0 { // the metrics' start
			st.startAt = c.Now() // no header timeout to read the clock for
		}
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
		return h.startPriorKnowledge()
	default:
		if h.notHTTP1Preface(in) {
			h.c.LogRefusal(0, "closed unanswered: the connection opened with neither an HTTP/1.x request line nor the HTTP/2 preface")
			return len(in), ErrClose
		}
		h.reject(asParseError(err))
		return len(in), ErrClose
	}

	switch {
	case req.Chunked:
		st.inBody, st.headLen = true, n
		st.buf = bytebufferpool.Get()
		_, _ = st.buf.Write(in[:n])
		st.chunked.Reset()
		h.continueIfWaiting(st, req, len(in) == n)
		h.armBodyDeadline(st, 0)
		m, err := h.readBody(st, in[n:])
		return n + m, err
	case req.ContentLength > int64(len(in)-n):
		// The body spans reads: it waits, unconsumed, in the core's accumulator (the
		// parser refused a Content-Length above MaxBodyBytes), and the head is parsed
		// again when more arrives.
		h.continueIfWaiting(st, req, len(in) == n)
		st.headLen, st.whole, st.waiting = n, n+int(req.ContentLength), n
		h.armBodyDeadline(st, 0)
		h.bodyProgress(st, len(in))
		return 0, nil
	case req.ContentLength > 0:
		end := n + int(req.ContentLength)
		return end, h.dispatch(req, in[:n], in[n:end])
	}
	return n, h.dispatch(req, in[:n], nil)
}

// continueIfWaiting sends 100 Continue to a client that expects it before it sends the
// body it owes, when none of the body came with the head (RFC 9110 §10.1.1).
func (h *http1) continueIfWaiting(st *h1State, req *parser.Request, headOnly bool) {
	if req.Expect100 && headOnly {
		h.c.WriteString(continue100)
		st.sent100 = true
	}
}

// bodyProgress re-arms the body deadline when a read brought more of a waiting
// Content-Length body (in is the input so far: head and body).
func (h *http1) bodyProgress(st *h1State, in int) {
	if in > st.waiting {
		st.waiting = in
		h.armBodyDeadline(st, int64(in-st.headLen))
	}
}

// armBodyDeadline gives a body BodyTimeout from its start, plus the time the received
// bytes take at MinBodyRate: a client that keeps sending at that rate on average is never
// cut off, one that sends a byte now and then is answered 408 once BodyTimeout has
// passed, instead of holding the request's buffer forever (as a timeout restarted by
// every byte would let it).
func (h *http1) armBodyDeadline(st *h1State, received int64) {
	c := h.c
	if st.bodyFrom == 0 {
		st.bodyFrom = c.Now()
	}
	due := st.bodyFrom + int64(c.srv.cfg.BodyTimeout) + received*int64(time.Second)/int64(c.srv.cfg.MinBodyRate)
	c.SetDeadline(time.Duration(max(due-c.Now(), 1)))
}

func asParseError(err error) *parser.Error {
	var perr *parser.Error
	if !errors.As(err, &perr) {
		perr = &parser.Error{Status: 400, Reason: err.Error()}
	}
	return perr
}

// readBody decodes chunked body bytes of the request in st.
func (h *http1) readBody(st *h1State, in []byte) (int, error) {
	c := h.c
	pos := 0
	for {
		n, data, done, err := st.chunked.Decode(in[pos:])
		pos += n
		if err != nil {
			h.reject(asParseError(err))
			return len(in), ErrClose
		}
		if len(data) > 0 {
			if int64(len(st.buf.B)-st.headLen+len(data)) > c.srv.cfg.Limits.MaxBodyBytes {
				h.reject(&parser.Error{Status: 413, Reason: "request body exceeds the server's limit of " +
					strconv.FormatInt(c.srv.cfg.Limits.MaxBodyBytes, 10) + " bytes"})
				return len(in), ErrClose
			}
			_, _ = st.buf.Write(data)
		}
		if done {
			return pos, h.finishBody(st)
		}
		if n == 0 {
			if pos > 0 {
				h.armBodyDeadline(st, int64(len(st.buf.B)-st.headLen))
			}
			return pos, nil
		}
	}
}

// finishBody re-parses the kept head so its views point into buf, and dispatches.
func (h *http1) finishBody(st *h1State) error {
	req := &h.c.loop.req
	st.parser.Reset()
	head := st.buf.B[:st.headLen]
	if _, err := st.parser.Parse(head, req); err != nil {
		h.reject(&parser.Error{Status: 500, Reason: "internal error: request head changed while reading its body"})
		return ErrClose
	}
	return h.dispatch(req, head, st.buf.B[st.headLen:])
}

// dispatch answers one complete request: an upgrade, a handler's response or an error.
// head is the request head's bytes, body its body (both views).
func (h *http1) dispatch(req *parser.Request, head, body []byte) error {
	c := h.c
	h.served = true
	hr := &c.loop.hreq
	hr.fromHTTP1(c, req, body)
	route := c.srv.routeFor(hr)
	c.loop.stats.Requests.Add(1)
	if route == nil {
		route = &noRoute // server-wide upgraders (h2c) apply to unrouted paths too
	}
	if hr.wantsUpgrade() || route.requiresUpgrade() {
		out := h.negotiate(route, hr)
		if out != deferred && h.later != nil { // UpgradeOffLoop, then something else returned
			h.later.release()
			h.later = nil
		}
		switch out {
		case upgraded:
			return nil
		case answered:
			return h.endRequest(req)
		case deferred:
			return h.upgradeOffLoop(req, head, body)
		}
	}
	if route.UseWorkerPool && route.HTTP != nil {
		h.submit(route.HTTP, &hr.match, req, head, body)
		return h.endRequest(req)
	}
	w := &c.loop.resp
	c.srv.handle(route, w, hr)
	h.queue(req, h.startedAt(), "", w)
	return h.endRequest(req)
}

// noRoute is the route of a path nobody routes: only server-wide upgraders apply (such as
// the "OPTIONS *" nghttp upgrades to h2c with, which RFC 7540 §3.2 allows), and a plain
// request gets 404.
var noRoute Route

// endRequest returns the request state to its pool and arms the keep-alive timeout, or
// closes the connection when the request asked for that.
func (h *http1) endRequest(req *parser.Request) error {
	h.release()
	if h.busy {
		return nil // a worker-pool job answers it, and closes what the request ends (poolJob.Run)
	}
	if !h.keepAlive(req) {
		return ErrClose
	}
	h.c.SetDeadline(h.c.srv.cfg.IdleTimeout)
	return nil
}

// queue is how every response the loop serialises reaches the output: w's response to
// req, with connOpt in its Connection field, then its count and access-log line. from is
// when req began (startedAt).
func (h *http1) queue(req *parser.Request, from int64, connOpt string, w *ResponseWriter) {
	c := h.c
	head := isHead(req.Method)
	b, at := h.appendResponse(c.AppendBuffer(), req.KeepAlive, req.ProtoMinor, head, connOpt, w)
	c.Commit(b)
	c.CountResponse(1, w.Status(), from, at)
	if c.srv.cfg.AccessLog != nil {
		h.logAccess(req, from, w.Status(), sentBytes(w, head), "")
	}
}

// startedAt is when the request in progress began (h1State.startAt), for the access log
// and the request metrics (0 between requests).
func (h *http1) startedAt() int64 {
	if h.st == nil {
		return 0
	}
	return h.st.startAt
}

// appendResponse is the one HTTP/1.x serialiser: its head (appendHead), with the
// response's Content-Length, and the body (none for HEAD or bodyless statuses). It runs
// on the loop and, for worker-pool handlers, off it. at is appendHead's.
func (h *http1) appendResponse(b []byte, keepAlive bool, minor int, head bool, connOpt string, w *ResponseWriter) (_ []byte, at int64) {
	if len(w.Trailers()) > 0 && minor >= 1 && !head && !bodyless(w.Status()) {
		// Trailers go in a chunked body's last chunk (RFC 9112 §7.1.2).
		b, at = h.appendHead(b, keepAlive, minor, connOpt, w, chunkedLength)
		return appendLastChunk(appendChunk(b, w.Body()), w.Trailers()), at
	}
	b, at = h.appendHead(b, keepAlive, minor, connOpt, w, w.ContentLength(head))
	if !bodyless(w.Status()) && !head {
		b = append(b, w.Body()...)
	}
	return b, at
}

// chunkedLength is appendHead's length for a response sent in parts over HTTP/1.1.
const chunkedLength = -2

// appendHead appends the status line, Date, Server, Connection (connOpt, e.g. "Upgrade"
// on a 426, plus close or keep-alive as the request and the server's state ask, RFC 9112
// §9.3), the handler's fields, the server's raw lines, and the framing: Content-Length
// length when it is not negative, or Transfer-Encoding chunked for chunkedLength. at is
// the clock's reading the Date field was taken at (0 when the handler set its own), which
// the request metrics take as the response's time.
func (h *http1) appendHead(b []byte, keepAlive bool, minor int, connOpt string, w *ResponseWriter, length int64) (_ []byte, at int64) {
	s := h.c.srv
	status := w.Status()
	b = appendStatusLine(b, status)
	if !w.SetsDate() {
		var date []byte
		date, at = s.clock.dateHeaderAt()
		b = append(b, "Date: "...)
		b = append(b, date...)
		b = append(b, "\r\n"...)
	}
	if name := s.cfg.ServerName; name != "" && !w.SetsServer() {
		b = append(b, "Server: "...)
		b = append(b, name...)
		b = append(b, "\r\n"...)
	}
	persist := ""
	switch {
	case !keepAlive || s.draining.Load():
		persist = "close"
	case minor == 0:
		persist = "keep-alive"
	}
	if connOpt != "" || persist != "" {
		b = append(b, "Connection: "...)
		b = append(b, connOpt...)
		if connOpt != "" && persist != "" {
			b = append(b, ", "...)
		}
		b = append(b, persist...)
		b = append(b, "\r\n"...)
	}
	for i := range w.fields {
		name, value := w.Field(i)
		b = append(b, name...)
		b = append(b, ": "...)
		b = append(b, value...)
		b = append(b, "\r\n"...)
	}
	b = headerlines.Append(b, w.raw)
	switch {
	case bodyless(status):
	case length >= 0:
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, length, 10)
		b = append(b, "\r\n"...)
	case length == chunkedLength:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	return append(b, "\r\n"...), at
}

// sentBytes is how much of w's body its response carries (appendResponse): none for
// HEAD or a status without content.
func sentBytes(w *ResponseWriter, head bool) int {
	if bodyless(w.Status()) || head {
		return 0
	}
	return len(w.Body())
}

func isHead(method []byte) bool { return string(method) == "HEAD" }

// respond answers a request with a server-generated status and text, keeping the
// connection if the request allows; connOpt and raw header lines go with it. from is
// when it began (startedAt).
func (h *http1) respond(req *parser.Request, from int64, status int, connOpt, raw, text string) {
	w := &h.c.loop.resp
	w.Reset()
	w.text(status, text)
	w.raw = raw
	h.queue(req, from, connOpt, w)
}

// respondTyped answers a request with status, connOpt, raw header lines and body of media
// type ctype, keeping the connection if the request allows.
func (h *http1) respondTyped(req *parser.Request, from int64, status int, connOpt, raw, ctype, body string) {
	w := &h.c.loop.resp
	w.Reset()
	w.WriteHeader(status)
	w.Header("Content-Type", ctype)
	_, _ = w.WriteString(body)
	w.raw = raw
	h.queue(req, from, connOpt, w)
}

// unreadable stands for a request that could not be read: its response closes the
// connection (KeepAlive false), and the access log has no method for it. Read only.
var unreadable = parser.Request{ProtoMinor: 1}

// reject answers a request that could not be read with its status and a body that says
// why, then the connection closes: nothing after it on the connection can be trusted.
func (h *http1) reject(e *parser.Error) {
	c := h.c
	w := &c.loop.resp
	w.Reset()
	w.text(e.Status, e.Reason)
	h.queue(&unreadable, h.startedAt(), "", w)
	kind := "malformed_request"
	switch e.Status {
	case 408:
		kind = "timeout"
	case 503:
		kind = "handler_timeout"
	}
	c.loop.stats.outcome(e.Status, kind)
	c.LogRefusal(e.Status, e.Reason)
}

// keepAlive reports whether the connection stays open after req: not when the request
// says close (RFC 9112 §9.3) nor while the server shuts down.
func (h *http1) keepAlive(req *parser.Request) bool {
	return req.KeepAlive && !h.c.srv.draining.Load()
}

// Timeout handles an expired HTTP/1.1 deadline: a slow head or body gets 408, an idle
// keep-alive connection is closed quietly (RFC 9112 §9.5), and work on the worker pool
// that outlived HandlerTimeout gets 503 (its late answer finds the connection closed).
func (h *http1) Timeout(c *Conn) {
	if h.busy {
		h.busy, h.gaveUp = false, true
		c.loop.abandonOffLoop(c, 0, true) // a NetHTTP handler's context ends now, not when the close has lingered
		// A streamed response's head has gone: the close without its last chunk tells the
		// client it was cut short.
		if h.streamed {
			c.LogRefusal(503, "the handler sent no part of its response within the server's HandlerTimeout")
		} else {
			h.reject(&parser.Error{Status: 503, Reason: "the handler did not answer within the server's HandlerTimeout"})
		}
		c.Close()
		return
	}
	st := h.st
	if st != nil && (st.inBody || (st.started && c.buffered() > 0)) {
		h.reject(&parser.Error{Status: 408, Reason: "the request was not received in time (header or body timeout)"})
	}
	c.Close()
}

// Closed returns the request state to its pool.
func (h *http1) Closed(*Conn, error) { h.release() }

// Drain ends an idle connection at shutdown (RFC 9112 §9.5); a request in progress ends
// with "Connection: close" (keepAlive).
func (h *http1) Drain(c *Conn) {
	if h.st == nil && !h.busy {
		c.Close()
	}
}

// startPriorKnowledge hands a connection that opened with the HTTP/2 preface to HTTP/2.
func (h *http1) startPriorKnowledge() (int, error) {
	c := h.c
	if !h.acceptsPriorKnowledge() {
		h.reject(&parser.Error{Status: 505, Reason: "HTTP/2 with prior knowledge is not accepted here"})
		return 0, ErrClose
	}
	h.release()
	u := c.srv.prior
	c.Switch(u.(Upgrader).Token(), u.StartWithPreface(c), nil)
	return 0, nil
}

// acceptsPriorKnowledge reports whether the connection may still open with the HTTP/2
// preface: as its first bytes, on a server with HTTP/2, in cleartext. Over TLS only ALPN
// selects HTTP/2 (RFC 9113 §3.3): a session that negotiated http/1.1, or nothing, speaks
// HTTP/1.1.
func (h *http1) acceptsPriorKnowledge() bool {
	return !h.served && h.c.srv.prior != nil && !h.c.IsTLS()
}

// notHTTP1Preface reports that a fresh connection on a server that accepts HTTP/2 with
// prior knowledge opened with a line that is not an HTTP/1.x request line at all (its
// last word is no HTTP-version, in any case: "http/1.1" gets its 400). Such a client
// speaks neither HTTP/1.1 nor a valid HTTP/2 preface, and RFC 9113 §3.4 says an invalid
// preface ends the connection: it is closed without an HTTP/1.1 400, which an HTTP/2
// client would misread as a frame.
func (h *http1) notHTTP1Preface(in []byte) bool {
	if !h.acceptsPriorKnowledge() {
		return false
	}
	eol := bytes.IndexByte(in, '\n')
	if eol < 0 {
		return false
	}
	line := bytes.TrimRight(in[:eol], "\r")
	word := line[bytes.LastIndexByte(line, ' ')+1:]
	return len(word) < len("HTTP/") || !parser.EqualFold(word[:len("HTTP/")], "HTTP/")
}
