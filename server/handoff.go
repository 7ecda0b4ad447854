package server

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/valyala/bytebufferpool"
	"golang.org/x/net/http/httpguts"
)

// Errors of Adopt and Handoff.
var (
	// ErrNotServing: the server is not running (Serve has not started it, or it is
	// shutting down), so it has no loop to take a connection.
	ErrNotServing = errors.New("switchyard: the server is not serving; it cannot adopt connections")
	// ErrHandoffTLS: the connection is a TLS session (*tls.Conn). Its keys live inside
	// crypto/tls's Conn, which cannot be moved to a loop, so Handoff refuses it before
	// hijacking: serve that WebSocket from net/http, or let switchyard terminate TLS
	// itself (Config.TLS).
	ErrHandoffTLS = errors.New("switchyard: cannot hand off a TLS connection (its session cannot leave crypto/tls); terminate TLS in switchyard instead")
	// ErrHandoffBody: the request has a body, which net/http would have to read first.
	// Upgrades have none.
	ErrHandoffBody = errors.New("switchyard: cannot hand off a request with a body")
	// ErrHandoffHeader: the request, as the handler left it, has a method, target, Host or
	// header field that is not valid HTTP (a CR or LF a middleware copied into a header
	// value, say). The loop parses the request again from its fields, where such a byte
	// would end the request early and smuggle what follows in as another one.
	ErrHandoffHeader = errors.New("switchyard: cannot hand off a request whose method, target, Host or header fields are not valid HTTP")
	// ErrNotHijackable: the http.ResponseWriter cannot be hijacked (an HTTP/2 request, or
	// a middleware's wrapper that hides http.Hijacker).
	ErrNotHijackable = errors.New("switchyard: the http.ResponseWriter cannot be hijacked (HTTP/2, or a wrapper without Hijack)")
)

// adoption rides on an adopted connection's gnet context until OnOpen replaces it with
// the Conn: it carries the bytes read from the connection before it came to the loop.
type adoption struct {
	pending []byte
}

// open starts an adopted connection in HTTP/1.1 with what was already read from it queued
// as its first input, as if the loop had read it. It runs in OnOpen, on the loop. TLS is
// not the adopted connection's: whoever read from it had the cleartext.
func (a *adoption) open(c *Conn) {
	c.proto = newHTTP1(c)
	if len(a.pending) == 0 {
		return
	}
	c.acc = bytebufferpool.Get()
	c.acc.B = append(c.acc.B[:0], a.pending...)
	c.accOff = 0
	// Served after OnOpen, in a task: the socket's own bytes, if a read comes first,
	// are appended behind these (Conn.input), so the order holds either way.
	c.serveLater()
}

// Ready is closed once Serve runs the event loops: from then on Adopt may be called.
func (s *Server) Ready() <-chan struct{} { return s.running }

// Adopt makes conn one of the server's connections, served by an event loop from now on
// exactly as if the server had accepted it: HTTP/1.1 from its next request, routes and
// upgrades, every budget and timeout, Stats and Open. pending is what its previous owner
// had already read from it and not consumed (bytes in a bufio.Reader, the request head of
// a handoff): the loop serves it first. Adopt returns once a loop has opened the
// connection; the loop serves a duplicate of conn's descriptor and conn itself is closed,
// on success and on failure alike, so the caller holds nothing for it afterwards (no
// goroutine, no buffer). pending is copied.
//
// conn must be a *net.TCPConn or *net.UnixConn carrying cleartext; a *tls.Conn is refused
// with ErrHandoffTLS (its session cannot leave crypto/tls). The server must be serving:
// before Ready is closed, and once it shuts down, Adopt returns ErrNotServing. Adopt
// blocks until the loop has taken the connection: call it from a goroutine that may
// block, such as a net/http handler's, never from a loop. Safe from any goroutine.
func (s *Server) Adopt(conn net.Conn, pending []byte) error {
	select {
	case <-s.running:
	default:
		_ = conn.Close()
		return ErrNotServing
	}
	if s.draining.Load() {
		_ = conn.Close()
		return ErrNotServing
	}
	switch conn.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		_ = conn.Close()
		if isTLSConn(conn) {
			return ErrHandoffTLS
		}
		return fmt.Errorf("switchyard: cannot adopt a %T: only *net.TCPConn and *net.UnixConn carry a descriptor a loop can serve", conn)
	}
	a := &adoption{pending: append([]byte(nil), pending...)}
	if _, err := s.eng.Adopt(conn, a); err != nil {
		return fmt.Errorf("switchyard: adopt: %w", err)
	}
	return nil
}

// isTLSConn reports whether c is a TLS session, without importing crypto/tls for it.
func isTLSConn(c net.Conn) bool {
	_, ok := c.(interface{ Handshake() error })
	return ok
}

// Handoff moves the connection of a request a net/http server is serving to this server:
// it hijacks w, and the request itself, with every byte net/http had read behind it,
// becomes the adopted connection's first input (Adopt). The loop then serves the request
// as if it had arrived on the server's own listener: the route for r's path, its upgrade
// negotiation (WebSocket's handshake checks, Authorize, permessage-deflate; the 101 is
// written by the loop), and whatever the client sent right after its request. From then
// on the net/http server holds nothing for the connection: its handler returns, and with
// it the goroutine; the hijacked descriptor is closed and the loop serves its duplicate.
//
// When Handoff fails before hijacking (ErrHandoffTLS, ErrHandoffBody, ErrHandoffHeader,
// ErrNotHijackable, ErrNotServing) nothing has been written to w: the caller still answers. A request that
// comes while Serve is still starting waits for Ready. After the
// hijack, a failure closes the connection. websocket.Handoff checks a WebSocket handshake
// first and answers a bad one through w. Call it from the net/http handler, on HTTP/1.1
// requests; it blocks until a loop has the connection.
func (s *Server) Handoff(w http.ResponseWriter, r *http.Request) error {
	if r.TLS != nil {
		return ErrHandoffTLS
	}
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		return ErrHandoffBody
	}
	if r.ProtoMajor != 1 {
		return ErrNotHijackable
	}
	if !validHandoffHead(r) {
		return ErrHandoffHeader
	}
	select { // a program may start net/http and Serve together: wait for the loops
	case <-s.running:
	case <-s.done:
		return ErrNotServing
	case <-r.Context().Done():
		return ErrNotServing
	}
	if s.draining.Load() {
		return ErrNotServing
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotHijackable, err)
	}
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	buf.B = appendRequestHead(buf.B[:0], r)
	buf.B = appendBuffered(buf.B, brw.Reader)
	return s.Adopt(conn, buf.B)
}

// validHandoffHead reports whether appendRequestHead can write r's head back as the one
// request it is: a handler or middleware may have put anything in r's fields.
func validHandoffHead(r *http.Request) bool {
	if !httpguts.ValidHeaderFieldName(r.Method) || r.RequestURI == "" || !httpguts.ValidHostHeader(r.Host) {
		return false
	}
	for i := 0; i < len(r.RequestURI); i++ {
		if b := r.RequestURI[i]; b <= ' ' || b == 0x7f {
			return false
		}
	}
	for name, values := range r.Header {
		if !httpguts.ValidHeaderFieldName(name) {
			return false
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				return false
			}
		}
	}
	return true
}

// appendRequestHead serialises r's head again as HTTP/1.1: net/http has parsed it, and the
// loop's parser reads it anew. Host comes first, as net/http removed it from Header.
func appendRequestHead(b []byte, r *http.Request) []byte {
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, r.RequestURI...)
	b = append(b, " HTTP/1."...)
	b = strconv.AppendInt(b, int64(r.ProtoMinor), 10)
	b = append(b, "\r\nHost: "...)
	b = append(b, r.Host...)
	b = append(b, "\r\n"...)
	for name, values := range r.Header {
		for _, v := range values {
			b = append(b, name...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...)
}

// appendBuffered appends what br read from the connection and nobody consumed yet: the
// bytes the client sent right behind its request.
func appendBuffered(b []byte, br *bufio.Reader) []byte {
	if n := br.Buffered(); n > 0 {
		p, _ := br.Peek(n)
		b = append(b, p...)
	}
	return b
}
