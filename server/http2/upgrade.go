package http2

import (
	"sync"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server"
)

// upgrader is HTTP/2 both ways RFC 9113 allows over cleartext: the Upgrader of the h2c
// token (RFC 7540 §3.2) and, as server.PriorKnowledge, the protocol of connections that
// start with the client preface (RFC 9113 §3.3).
type upgrader struct {
	cfg     Config
	scratch server.PerLoop[loopScratch]

	once sync.Once
	srv  *server.Server
	res  *resolved
}

// New returns HTTP/2 with cfg's settings (zero fields take defaults). Enable it on every
// route of a server, by h2c upgrade and by prior knowledge, with
//
//	srv.Upgrade(http2.New(http2.Config{}))
//
// A stream's request is then served by its route's HTTP handler, with the same Request
// and ResponseWriter as HTTP/1.1; handlers run on the event loop (see server.Route).
func New(cfg Config) server.Upgrader { return &upgrader{cfg: cfg} }

// resolved is the configuration with the server's defaults, worked out once for the
// first server the upgrader serves (and per connection for any other).
func (u *upgrader) resolved(s *server.Server) *resolved {
	u.once.Do(func() { u.srv, u.res = s, u.cfg.resolve(s) })
	if s != u.srv {
		return u.cfg.resolve(s)
	}
	return u.res
}

// Token is "h2c": RFC 7540 §3.2's token for HTTP/2 over cleartext TCP. The "h2" token
// names HTTP/2 over TLS and is never matched by an Upgrade header (RFC 7540 §3.2).
func (u *upgrader) Token() string { return "h2c" }

// Upgrade accepts an h2c upgrade (RFC 7540 §3.2, §3.2.1) when the request carries exactly
// one HTTP2-Settings field, valid base64url SETTINGS, and lists HTTP2-Settings in
// Connection; otherwise it declines and the request is served over HTTP/1.1, as §3.2
// says a server ignoring the upgrade does. The core has read the body in full already.
func (u *upgrader) Upgrade(c *server.Conn, r *server.Request, hdr []byte) (server.Protocol, []byte, *server.Rejection) {
	req := r.HTTP1()
	if c.IsTLS() {
		// h2c is HTTP/2 over cleartext only; over TLS, HTTP/2 is chosen by ALPN "h2"
		// (RFC 9113 §3.2), and the request is served over HTTP/1.1.
		return nil, hdr, server.Decline
	}
	if req == nil || req.Count(parser.HeaderHTTP2Settings) != 1 ||
		!req.HasToken(parser.HeaderConnection, "HTTP2-Settings") {
		return nil, hdr, server.Decline
	}
	peer := h2.DefaultSettings()
	if err := h2.DecodeHTTP2SettingsHeader(req.Get(parser.HeaderHTTP2Settings), &peer); err != nil {
		return nil, hdr, server.Decline
	}
	h := newH2Conn(c, u)
	h.applyInitialPeerSettings(&peer)
	return h, hdr, nil
}

// StartWithPreface builds the protocol for a connection that opened with the client
// preface; its Serve sees the preface first.
func (u *upgrader) StartWithPreface(c *server.Conn) server.Protocol { return newH2Conn(c, u) }
