package http2

import (
	"bytes"
	"slices"
	"strconv"
	"unsafe"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server"
	"golang.org/x/net/http2/hpack"
)

// loopScratch is the request and response a loop's HTTP/2 streams are served with, one
// at a time.
type loopScratch struct {
	req  server.Request
	resp server.ResponseWriter
	// For extended CONNECT streams (extconnect.go): the 200's header lines, and the
	// vector and frame headers of a child's framed output.
	hdr  []byte
	iov  [][]byte
	hdrs []byte
	// cookie holds the joined value of a request's cookie fields (fillRequest) while
	// its handler runs; one grown past maxKeptCookie is dropped after the request.
	cookie []byte
}

// maxKeptCookie bounds the joined cookie buffer a loop keeps between requests: enough for
// the cookies browsers send, not the most a header list may hold.
const maxKeptCookie = 16 << 10

// serveStream runs the route's handler for a complete request and sends its response,
// through the same dispatch as HTTP/1.1 (server.Conn.Handle). A route with UseWorkerPool
// runs its handler on the worker pool while the connection serves its other streams; the
// response is sent when it is back, unless the stream was reset meanwhile. RequireUpgrade
// applies only to HTTP/1.1: over HTTP/2 the route's HTTP handler serves, and a route
// without one answers 404.
func (h *h2Conn) serveStream(s *h2Stream, head *h2.RequestHead, body []byte) {
	h.c.Counters().Requests.Add(1)
	scratch := h.u.scratch.Get(h.c)
	h.fillRequest(&scratch.req, s.id, head, body, &scratch.cookie)
	// The handler is done with the request's views, or a worker-pool handler got copies.
	h.dispatch(s, &scratch.resp, &scratch.req)
	if cap(scratch.cookie) > maxKeptCookie {
		scratch.cookie = nil
	}
}

// dispatch answers r on s at once, or hands its handler to the worker pool (Answer sends
// the response then).
func (h *h2Conn) dispatch(s *h2Stream, w *server.ResponseWriter, r *server.Request) {
	if h.c.HandleOffLoop(w, r, h) {
		h.writeResponse(s, w)
	} else {
		h.handedOut(s)
	}
}

// Answer sends a worker-pool handler's response on its stream, on the loop.
func (h *h2Conn) Answer(r *server.Request, w *server.ResponseWriter) {
	// The slot its stream kept if that was reset, and the body it held, are free now.
	freed := h.handlerReturned(r.StreamID)
	if s := h.stream(r.StreamID); s != nil && (!s.responded || s.streaming) {
		h.stopWaiting(s)
		if s.streaming {
			h.endStream(s, w)
		} else {
			h.writeResponse(s, w)
		}
		h.armDeadline()
	}
	if freed {
		// The windows held back for its body open now, not at the next read, which may
		// never come if the client waits for them (data.go).
		h.replenish()
	}
	if h.goingAway && len(h.streams) == 0 {
		h.c.Close()
	}
}

// serveUpgradeRequest answers the h2c upgrade request on stream 1 (RFC 7540 §3.2), as any
// stream's request: a UseWorkerPool route's handler runs on the pool. r is the HTTP/1.1
// request, already marked as HTTP/2 stream 1 by Start.
func (h *h2Conn) serveUpgradeRequest(s *h2Stream, r *server.Request) {
	s.isHead = string(r.Method) == "HEAD"
	// Not counted in Stats.Requests: HTTP/1.1 counted it as the request it came as.
	h.dispatch(s, &h.u.scratch.Get(h.c).resp, r)
}

// answerText answers a stream with a server-generated status and text, without a handler.
func (h *h2Conn) answerText(s *h2Stream, status int, text string) {
	w := &h.u.scratch.Get(h.c).resp
	w.Reset()
	w.WriteHeader(status)
	w.Header("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.WriteString(text)
	_, _ = w.WriteString("\n")
	h.writeResponse(s, w)
	h.c.LogRefusal(status, text)
}

// bytesOf views a string's bytes without copying: the strings of a RequestHead are
// immutable, so handlers get read-only views of them like the HTTP/1.1 views of gnet's
// buffer.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// fillRequest builds the handler's view of a request from its HTTP/2 head (§8.3.1):
// Path and Query split from :path, Host from :authority (or a host field). A plain
// CONNECT (§8.5) has no :path: its Target is its :authority and its Path is empty, as
// HTTP/1.1's authority-form gives them (RFC 9112 §3.2.3).
//
// Cookie fields, which a client may split (§8.2.3), become one field whose value joins
// them with "; ", where the first one was, so that Get and Header see one value, as
// over HTTP/1.1. The joined value is built in *join, reused by the caller, or with join
// nil in memory of its own, for a request whose views may outlive the callback.
func (h *h2Conn) fillRequest(r *server.Request, id uint32, head *h2.RequestHead, body []byte, join *[]byte) {
	target := bytesOf(head.Path)
	path, query := target, []byte(nil)
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		path, query = target[:i], target[i+1:]
	}
	if head.Path == "" {
		target = bytesOf(head.Authority)
	}
	hdrs := h.hdrs[:0]
	var host []byte
	if head.Authority != "" {
		host = bytesOf(head.Authority)
	}
	cookie := -1 // the first cookie field's index in hdrs
	var joined []byte
	for i := range head.Fields {
		f := &head.Fields[i]
		if f.Name == "cookie" {
			if cookie >= 0 {
				if joined == nil {
					joined = startJoin(join, hdrs[cookie].Value, head.Fields[i:])
				}
				joined = append(append(joined, "; "...), f.Value...)
				continue
			}
			cookie = len(hdrs)
		}
		hdrs = append(hdrs, server.Header{Name: bytesOf(f.Name), Value: bytesOf(f.Value), ID: parser.HeaderOther})
		if host == nil && f.Name == "host" {
			host = bytesOf(f.Value)
		}
	}
	if joined != nil {
		hdrs[cookie].Value = joined
		if join != nil {
			*join = joined
		}
	}
	h.hdrs = hdrs
	*r = server.Request{
		Method: bytesOf(head.Method), Target: target, Path: path, Query: query, Host: host,
		ProtoMajor: 2, Header: hdrs, Body: body, StreamID: id,
	}
}

// startJoin returns first in a buffer with room for it joined with the cookie fields among
// rest: *join grown, or a new one if join is nil. The header list limit the decoder
// enforces bounds it, since a field counts its value plus 32 octets there (§6.5.2) and
// adds 2 here.
func startJoin(join *[]byte, first []byte, rest []hpack.HeaderField) []byte {
	n := len(first)
	for i := range rest {
		if rest[i].Name == "cookie" {
			n += 2 + len(rest[i].Value)
		}
	}
	var b []byte
	if join != nil {
		b = (*join)[:0]
	}
	return append(slices.Grow(b, n), first...)
}

// writeResponse encodes w as HEADERS (and CONTINUATION) then DATA within the windows
// (§8.3.2): lowercase field names (§8.2.1), connection-specific fields dropped (§8.2.2),
// content-length added, and no body for HEAD or statuses that have none.
func (h *h2Conn) writeResponse(s *h2Stream, w *server.ResponseWriter) {
	body := h.bodyOf(s, w)
	h.keepTrailers(s, w)
	end := len(body) == 0 && s.trailer == nil
	at := h.writeHead(s, w, w.ContentLength(s.isHead), end)
	h.c.CountResponse(2, w.Status(), s.logged.from, at)
	if h.c.AccessLogging() {
		h.logAccess(s, w.Status(), len(body), "") // before finishResponse, which may release s
	}
	switch {
	case end:
		h.finishResponse(s)
	case len(body) == 0:
		h.bodyDone(s)
	default:
		h.sendBody(s, body)
	}
}

// writeHead sends w's status and fields as HEADERS (and CONTINUATION), with content-length
// length unless it is negative or the status has no content, and END_STREAM if end. at
// is writeServerFields'.
func (h *h2Conn) writeHead(s *h2Stream, w *server.ResponseWriter, length int64, end bool) (at int64) {
	s.responded = true
	h.freeBody(s) // the handler is done with it, or never gets it (413, 503)
	status := w.Status()
	enc := h.henc
	enc.Reset()
	enc.WriteStatus(status)
	for i, n := 0, w.NumFields(); i < n; i++ {
		name, value := w.Field(i)
		if connectionSpecific(name) {
			continue
		}
		enc.WriteFieldBytes(name, value)
	}
	at = h.writeServerFields(enc, w.SetsDate(), w.SetsServer())
	if !bodyless(status) && length >= 0 {
		enc.WriteVolatileFieldBytes(bytesOf("content-length"), strconv.AppendInt(h.scratch[:0], length, 10))
	}
	h.c.Commit(enc.AppendHeaders(h.c.AppendBuffer(), s.id, end, h.peer.MaxFrameSize))
	return at
}

// writeServerFields adds the fields the server puts on its responses unless the handler
// set them: date (RFC 9110 §6.6.1) and server, when the configuration names one. at is
// the clock's reading the date was taken at (0 when the handler set its own), which the
// request metrics take as the response's time.
func (h *h2Conn) writeServerFields(enc *h2.HeaderEncoder, setsDate, setsServer bool) (at int64) {
	if !setsDate {
		var date []byte
		date, at = h.c.Server().DateAt()
		enc.WriteFieldBytes(bytesOf("date"), date)
	}
	if name := h.cfg.serverName; name != "" && !setsServer {
		enc.WriteField("server", name)
	}
	return at
}

// bodyless reports whether a response with this status carries no content (RFC 9110 §6.4.1).
func bodyless(status int) bool { return status < 200 || status == 204 || status == 304 }

// connectionSpecific reports the fields RFC 9113 §8.2.2 forbids in HTTP/2
// (server.ResponseWriter already drops Connection and Transfer-Encoding).
func connectionSpecific(name []byte) bool {
	for _, n := range [...]string{"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"} {
		if parser.EqualFold(name, n) {
			return true
		}
	}
	return false
}
