package server

import (
	"bytes"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/parser"
)

// HTTP2 is the server's HTTP/2 entry point, both ways RFC 9113 allows over cleartext: as
// the Upgrader of the h2c token (RFC 7540 §3.2) and as the builder of connections that
// start with the client preface (prior knowledge, RFC 9113 §3.3). Install it on every
// route with Server.EnableHTTP2, or pass it to Server.Upgrade and Server.AcceptPriorKnowledge.
//
// Over HTTP/2 a stream's request is served by its route's HTTP handler, with the same
// Request and ResponseWriter as HTTP/1.1; handlers run on the event loop (see Route).
type HTTP2 struct {
	cfg H2Config
}

// NewHTTP2 returns the HTTP/2 protocol with cfg's settings (zero fields take defaults).
func NewHTTP2(cfg H2Config) *HTTP2 { return &HTTP2{cfg: cfg} }

// EnableHTTP2 accepts HTTP/2 on every route: the h2c upgrade and prior knowledge. Call
// before Serve.
func (s *Server) EnableHTTP2(cfg H2Config) *HTTP2 {
	p := NewHTTP2(cfg)
	s.Upgrade(p)
	s.AcceptPriorKnowledge(p.PriorKnowledge)
	return p
}

// Token is "h2c": RFC 7540 §3.2's token for HTTP/2 over cleartext TCP. The "h2" token
// names HTTP/2 over TLS and is never matched by an Upgrade header (RFC 7540 §3.2).
func (p *HTTP2) Token() string { return "h2c" }

// Upgrade accepts an h2c upgrade (RFC 7540 §3.2, §3.2.1) when the request carries exactly
// one HTTP2-Settings field, valid base64url SETTINGS, and lists HTTP2-Settings in
// Connection; otherwise it declines and the request is served over HTTP/1.1, as §3.2
// says a server ignoring the upgrade does. The core has read the body in full already.
func (p *HTTP2) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	req := r.HTTP1()
	if req == nil || req.Count(parser.HeaderHTTP2Settings) != 1 ||
		!req.HasToken(parser.HeaderConnection, "HTTP2-Settings") {
		return nil, hdr, Decline
	}
	peer := h2.DefaultSettings()
	if err := h2.DecodeHTTP2SettingsHeader(req.Get(parser.HeaderHTTP2Settings), &peer); err != nil {
		return nil, hdr, Decline
	}
	h := newH2Conn(c, &p.cfg)
	h.applyInitialPeerSettings(&peer)
	return h, hdr, nil
}

// PriorKnowledge builds the protocol for a connection that opened with the client
// preface; its Serve sees the preface first. Pass it to Server.AcceptPriorKnowledge.
func (p *HTTP2) PriorKnowledge(c *Conn) Protocol { return newH2Conn(c, &p.cfg) }

// noRoute is the route of a path nobody routes: only server-wide upgraders apply.
var noRoute Route

// notHTTP1Preface reports that a fresh connection on a server that accepts HTTP/2 with
// prior knowledge opened with a line that is not an HTTP/1.x request line at all (its
// last word is no HTTP-version). Such a client speaks neither HTTP/1.1 nor a valid HTTP/2
// preface, and RFC 9113 §3.4 says an invalid preface ends the connection: it is closed
// without an HTTP/1.1 400, which an HTTP/2 client would misread as a frame.
func (c *Conn) notHTTP1Preface(in []byte) bool {
	if c.srv.prior == nil || c.served {
		return false
	}
	eol := bytes.IndexByte(in, '\n')
	if eol < 0 {
		return false
	}
	line := bytes.TrimRight(in[:eol], "\r")
	word := line[bytes.LastIndexByte(line, ' ')+1:]
	return !bytes.HasPrefix(word, []byte("HTTP/"))
}
