package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// NetHTTP mounts a net/http handler on a route, for the endpoints that need the net/http
// ecosystem (http.FileServer, a middleware chain, a ServeMux with its own patterns):
//
//	srv.Route("/static/", server.NetHTTPRoute(http.StripPrefix("/static/", http.FileServer(dir))))
//
// The handler runs on the worker pool (Route.UseWorkerPool), never on a loop, with a
// *http.Request built from the request switchyard parsed: Method, URL, RequestURI, Proto,
// Header, Host, RemoteAddr, TLS (over switchyard's TLS), ContentLength, Body, and the
// route's path values (PathValue, Pattern), and a context (carrying the connection's
// local address under http.LocalAddrContextKey, as net/http's does) that is cancelled when
// the connection closes, when the client resets the request's HTTP/2 stream, when the server
// gives up on the handler at Config.HandlerTimeout (HTTP/1.1) or, on Linux, when the
// client shuts down its side while the handler runs (as net/http cancels it when the
// client goes away). Over HTTP/1.1 and HTTP/2 alike.
//
// What differs from net/http's own server:
//   - The request body has been received whole before the handler runs (up to
//     Config.Limits.MaxBodyBytes); r.Body reads it from memory and is valid only until the
//     handler returns.
//   - The response is buffered and sent when the handler returns, with its Content-Length
//     (so at most MaxResponseBytes of it), unless the handler flushes
//     (http.Flusher, http.ResponseController): then what it wrote so far leaves at once
//     and the rest follows as a stream (server-sent events work), MaxResponseBytes
//     bounds what it writes between flushes, and Flush waits while the client is behind
//     on reading (ResponseWriter.Flush). Trailers are sent as net/http sends them
//     (declared in the Trailer header, or named with http.TrailerPrefix;
//     ResponseWriter.Trailer). A 1xx WriteHeader is ignored; the handler's Connection
//     and Transfer-Encoding are the server's to set, and so is its Content-Length except
//     in a response to HEAD, which has no body to count.
//   - Hijack is not supported: http.NewResponseController(w).Hijack returns an error
//     wrapping http.ErrNotSupported. WebSocket endpoints are switchyard routes.
//   - A handler that panics gets a 500 (the connection stays open), as does one that
//     writes more than MaxResponseBytes.
//
// The cost: building the *http.Request (its URL, Header map and context) and the
// response's header map take 22 allocations, about 2 KiB, per request beyond a native
// Handler on the worker pool, for a handler that sets one header and writes a short
// body: 27 allocations and 2,033 B against 5 and 112 B, which is the pool's hop
// that every UseWorkerPool route pays (a native handler on the loop allocates nothing).
// Measured server-side over a socket by BenchmarkNetHTTPAdapter; the figure is held by
// TestNetHTTPAdapterAllocationBudget.
type NetHTTP struct {
	Handler http.Handler
	// MaxResponseBytes bounds the response body a handler may write (default 8 MiB), or
	// what it writes between flushes: the response is buffered until then. Past it the
	// client gets 500, or a response cut short once its head has gone.
	MaxResponseBytes int
}

// defaultMaxResponseBytes is NetHTTP.MaxResponseBytes's default.
const defaultMaxResponseBytes = 8 << 20

// NetHTTPRoute is NetHTTP{Handler: h}.Route(): a route that serves every request with h.
func NetHTTPRoute(h http.Handler) Route { return NetHTTP{Handler: h}.Route() }

// Route is the route that serves requests with n.Handler on the worker pool. Upgraders
// may be added to it.
func (n NetHTTP) Route() Route {
	if n.MaxResponseBytes <= 0 {
		n.MaxResponseBytes = defaultMaxResponseBytes
	}
	return Route{HTTP: n.serve, UseWorkerPool: true}
}

// ErrResponseTooLarge is what a NetHTTP handler's Write returns past MaxResponseBytes.
var ErrResponseTooLarge = errors.New("switchyard: response exceeds NetHTTP.MaxResponseBytes")

// serve runs the net/http handler for one request, on a worker.
func (n NetHTTP) serve(w *ResponseWriter, r *Request) {
	if r.conn != nil {
		// On the loop: the route was copied without UseWorkerPool, and a net/http
		// handler may block.
		w.text(500, "server misconfigured: a net/http handler must run on the worker pool (NetHTTP.Route sets UseWorkerPool)")
		return
	}
	hr, err := n.request(r)
	if err != nil {
		w.text(400, err.Error())
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if c := r.peer; c != nil { // as net/http's server: handlers read it for the address served
		ctx = context.WithValue(ctx, http.LocalAddrContextKey, c.LocalAddr())
	}
	if a := r.abandon; a != nil { // its connection may close or its stream be reset meanwhile
		a.set(cancel)
		defer a.set(nil)
	}
	hr = hr.WithContext(ctx)
	rw := &netHTTPWriter{w: w, limit: n.MaxResponseBytes}
	if !n.run(rw, hr) {
		w.fail("the handler panicked")
		return
	}
	rw.finish()
}

// run calls the handler and reports whether it returned without panicking. net/http
// recovers a handler's panic too; on the worker pool an unrecovered one would leave the
// connection waiting for a response that never comes.
func (n NetHTTP) run(rw *netHTTPWriter, hr *http.Request) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			ok = false
		}
	}()
	n.Handler.ServeHTTP(rw, hr)
	return true
}

// request builds the *http.Request net/http handlers expect from r.
func (n NetHTTP) request(r *Request) (*http.Request, error) {
	target := string(r.Target)
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, fmt.Errorf("the request-target is not a URL net/http accepts: %v", err)
	}
	h := make(http.Header, len(r.Header))
	for i := range r.Header {
		name := r.Header[i].Name
		if len(name) == 0 || name[0] == ':' {
			continue
		}
		key := http.CanonicalHeaderKey(string(name))
		switch {
		case key == "Host": // Request.Host in net/http, as is :authority
			continue
		case key == "Transfer-Encoding": // the body is whole: net/http takes this out too
			continue
		case r.ProtoMajor == 2 && (key == "Connection" || key == "Upgrade" || key == "Http2-Settings" || key == "Keep-Alive"):
			continue // the h2c upgrade's request, stream 1, keeps its HTTP/1.1 hop-by-hop fields
		}
		h[key] = append(h[key], string(r.Header[i].Value))
	}
	if c := h["Cookie"]; r.ProtoMajor == 2 && len(c) > 1 {
		// HTTP/2 clients send each cookie as a field of its own, to be joined for an
		// HTTP/1.1 application (RFC 9113 §8.2.3), as net/http does.
		h["Cookie"] = []string{strings.Join(c, "; ")}
	}
	hr := &http.Request{
		Method:     string(r.Method),
		URL:        u,
		RequestURI: target,
		Proto:      protoName(r.ProtoMajor, r.ProtoMinor),
		ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		Header:        h,
		Host:          string(r.Host),
		ContentLength: int64(len(r.Body)),
		Body:          http.NoBody,
	}
	if r.h1 != nil {
		hr.Close = !r.h1.KeepAlive
	}
	if len(r.Body) > 0 {
		hr.Body = io.NopCloser(bytes.NewReader(r.Body))
	}
	if c := r.peer; c != nil {
		if a := c.RemoteAddr(); a != nil {
			hr.RemoteAddr = a.String()
		}
		// Off the loop, but the session is fixed once the handshake is done.
		if st, ok := c.TLSConnectionState(); ok {
			tls := st // only a TLS request pays for the copy on the heap
			hr.TLS = &tls
		}
	}
	if e := r.match.e; e != nil {
		hr.Pattern = e.pattern
		for _, name := range e.names {
			hr.SetPathValue(name, string(r.PathValue(name)))
		}
	}
	return hr, nil
}

// protoName is net/http's Request.Proto, without building it per request.
func protoName(major, minor int) string {
	switch {
	case major == 2:
		return "HTTP/2.0"
	case minor == 0:
		return "HTTP/1.0"
	}
	return "HTTP/1.1"
}

// netHTTPWriter is the http.ResponseWriter of a NetHTTP handler: it buffers the response
// in the job's ResponseWriter, which the worker pool's job sends when the handler returns
// or flushes.
type netHTTPWriter struct {
	w           *ResponseWriter
	header      http.Header
	wroteHeader bool
	sniff       bool // no Content-Type was set: detect it from the body, as net/http does
	limit       int
	over        bool
}

func (rw *netHTTPWriter) Header() http.Header {
	if rw.header == nil {
		rw.header = make(http.Header)
	}
	return rw.header
}

// WriteHeader fixes the status and the header fields, as net/http does: changes to
// Header afterwards are not sent. Informational statuses (1xx) are ignored.
func (rw *netHTTPWriter) WriteHeader(status int) {
	if rw.wroteHeader || status < 200 || status > 999 {
		return
	}
	rw.wroteHeader = true
	rw.w.WriteHeader(status)
	_, has := rw.header["Content-Type"]
	rw.sniff = !has && rw.header.Get("Content-Encoding") == "" // net/http does not sniff encoded bodies either
	if n, err := strconv.ParseInt(rw.header.Get("Content-Length"), 10, 64); err == nil {
		rw.w.HeadLength(n) // what a HEAD response announces; other bodies are counted
	}
	for name, values := range rw.header {
		if strings.HasPrefix(name, http.TrailerPrefix) {
			continue // a trailer, sent after the body (trailers)
		}
		for _, v := range values {
			rw.w.Header(name, v)
		}
	}
}

// trailers hands the handler's trailers to the response, as net/http finds them: the
// fields the Trailer header declared, set by the end, and those named with
// http.TrailerPrefix.
func (rw *netHTTPWriter) trailers() {
	for _, declared := range rw.header["Trailer"] {
		for name := range strings.SplitSeq(declared, ",") {
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			for _, v := range rw.header[name] {
				rw.w.Trailer(name, v)
			}
		}
	}
	for name, values := range rw.header {
		if name, ok := strings.CutPrefix(name, http.TrailerPrefix); ok {
			for _, v := range values {
				rw.w.Trailer(name, v)
			}
		}
	}
}

func (rw *netHTTPWriter) Write(p []byte) (int, error) {
	if err := rw.admit(len(p)); err != nil {
		return 0, err
	}
	return rw.w.Write(p)
}

func (rw *netHTTPWriter) WriteString(s string) (int, error) {
	if err := rw.admit(len(s)); err != nil {
		return 0, err
	}
	return rw.w.WriteString(s)
}

// admit fixes the status as net/http does on a first write (200 unless one was set), then
// says whether n more octets of body may follow.
func (rw *netHTTPWriter) admit(n int) error {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if bodyless(rw.w.Status()) {
		return http.ErrBodyNotAllowed // as net/http answers a body for 204 or 304
	}
	if rw.over || len(rw.w.body)+n > rw.limit {
		rw.over = true
		return ErrResponseTooLarge
	}
	return nil
}

// Flush sends what the handler wrote so far and waits until the client can take more
// (ResponseWriter.Flush); http.NewResponseController(w).Flush returns its error.
func (rw *netHTTPWriter) Flush() { _ = rw.FlushError() }

// FlushError is Flush with its error: ErrAbandoned once the client has gone.
func (rw *netHTTPWriter) FlushError() error {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.over {
		return ErrResponseTooLarge
	}
	rw.detectType()
	return rw.w.Flush()
}

// detectType sets the Content-Type the handler left unset from the body's first octets,
// as net/http does, once: a streamed response's type goes with its first part.
func (rw *netHTTPWriter) detectType() {
	if rw.sniff && len(rw.w.body) > 0 && !bodyless(rw.w.Status()) {
		rw.w.Header("Content-Type", http.DetectContentType(rw.w.body))
		rw.sniff = false
	}
}

// finish completes the response once the handler has returned.
func (rw *netHTTPWriter) finish() {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.over {
		rw.w.fail("the handler's response exceeds the route's MaxResponseBytes (" + strconv.Itoa(rw.limit) + " bytes)")
		return
	}
	if !rw.w.Streamed() {
		rw.detectType()
	}
	rw.trailers()
}
