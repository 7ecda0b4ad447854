package server

import (
	"net"

	"github.com/switchyard-dev/switchyard/parser"
)

// Header is one request header field: name and value are views.
type Header = parser.Header

// Request is an HTTP request as a handler sees it, whichever protocol carried it. Every
// slice is a view valid only until the handler returns.
type Request struct {
	Method []byte
	Target []byte // the request-target as sent (origin-form: path and query)
	Path   []byte
	Query  []byte // after '?', without it
	Host   []byte // the authority: an absolute-form target's, else Host; :authority over HTTP/2
	// ProtoMajor and ProtoMinor are 1 and 0 or 1 for HTTP/1.x, 2 and 0 for HTTP/2.
	ProtoMajor, ProtoMinor int
	Header                 []Header
	Body                   []byte
	// StreamID is the HTTP/2 stream carrying the request (0 over HTTP/1.1).
	StreamID uint32

	// conn is the connection, for a handler on the loop; nil in a worker-pool handler,
	// which may not call its loop-only methods.
	conn *Conn
	// peer is the connection for RemoteAddr alone, which is safe from any goroutine:
	// set in a worker-pool handler too.
	peer *Conn
	h1   *parser.Request
	// match is the route's pattern and where its path values are in Path (PathValue).
	match pathMatch
	// abandon is set in a worker-pool handler: the loop signals through it that the
	// answer is no longer wanted (offloop_abandon.go).
	abandon *abandonHook
}

// Get returns the first value of the header named name (case-insensitive), or nil.
func (r *Request) Get(name string) []byte {
	if r.h1 != nil {
		return r.h1.Lookup(name)
	}
	for i := range r.Header {
		if parser.EqualFold(r.Header[i].Name, name) {
			return r.Header[i].Value
		}
	}
	return nil
}

// HTTP1 returns the parsed HTTP/1.1 request with its indexed headers and token lists, or
// nil for a request that came over HTTP/2. Upgraders use it.
func (r *Request) HTTP1() *parser.Request { return r.h1 }

// Conn is the connection the request arrived on. Its loop-only methods may be used only
// from handlers that run on the loop.
func (r *Request) Conn() *Conn { return r.conn }

// RemoteAddr is the client's address, in a worker-pool handler too, and still after the
// client has gone. Safe from any goroutine.
func (r *Request) RemoteAddr() net.Addr {
	if r.peer == nil {
		return nil
	}
	return r.peer.RemoteAddr()
}

// LocalAddr is the server's address the client connected to (Conn.LocalAddr), in a
// worker-pool handler too. Safe from any goroutine.
func (r *Request) LocalAddr() net.Addr {
	if r.peer == nil {
		return nil
	}
	return r.peer.LocalAddr()
}

// AsHTTP2 makes r, an HTTP/1.1 request that upgraded to h2c, the request of HTTP/2
// stream id (RFC 7540 §3.2 answers it on stream 1): ProtoMajor 2, and Get searches Header.
func (r *Request) AsHTTP2(id uint32) {
	r.ProtoMajor, r.ProtoMinor, r.StreamID = 2, 0, id
	r.h1 = nil
}

// fromHTTP1 points r at the views of a parsed HTTP/1.1 request.
func (r *Request) fromHTTP1(c *Conn, pr *parser.Request, body []byte) {
	*r = Request{
		Method: pr.Method, Target: pr.Target, Path: pr.Path, Query: pr.Query,
		Host:       pr.Authority, // the target's authority over Host (RFC 9112 §3.2.2)
		ProtoMajor: 1, ProtoMinor: pr.ProtoMinor,
		Header: pr.Headers, Body: body,
		conn: c, peer: c, h1: pr,
	}
}
