package server

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/parser"
)

// outcome is what upgrade negotiation did with a request.
type outcome uint8

const (
	notUpgraded outcome = iota // serve it over HTTP/1.1
	upgraded                   // 101 sent; the connection speaks the new protocol
	answered                   // a 426 or a rejection was sent
	deferred                   // decided on the worker pool (Conn.UpgradeOffLoop)
)

// wantsUpgrade reports whether the request carries an Upgrade header at all.
func (r *Request) wantsUpgrade() bool {
	return r.h1 != nil && r.h1.Count(parser.HeaderUpgrade) > 0
}

// negotiate applies RFC 9110 §7.8: an upgrade is considered only over HTTP/1.1 and only
// when Connection lists "upgrade"; the first protocol in the client's order that the route
// takes wins; an upgrade nobody takes is ignored, unless the route requires one (426).
func (h *http1) negotiate(route *Route, hr *Request) outcome {
	c := h.c
	req := hr.h1
	if req.ProtoMinor == 1 && req.ConnUpgrade {
		if st := h.st; st != nil && st.start.IsZero() {
			st.start = time.Now() // for the handshake latency metric
		}
		it := req.Tokens(parser.HeaderUpgrade)
		for it.Next() {
			u := c.srv.upgraderFor(route, it.Token())
			if u == nil {
				continue
			}
			p, hdr, rej := u.Upgrade(c, hr, c.loop.upgradeHdr[:0])
			c.loop.upgradeHdr = hdr[:0]
			if rej == Decline {
				continue
			}
			if rej == upgradeLater && h.later != nil {
				h.later.u = u
				return deferred
			}
			if rej != nil {
				h.answerRejection(req, h.startedAt(), u, rej)
				return answered
			}
			h.switchTo(u, p, hdr, hr)
			return upgraded
		}
	}
	if !route.requiresUpgrade() {
		return notUpgraded
	}
	h.answer426(route, req)
	return answered
}

// switchTo sends 101 and installs p; the rest of the input goes to p right away.
func (h *http1) switchTo(u Upgrader, p Protocol, hdr []byte, hr *Request) {
	c := h.c
	h.switching(hr.h1, h.startedAt(), hr.h1.Expect100 && (h.st == nil || !h.st.sent100), u.Token(), hdr)
	c.loop.stats.outcome(101, u.Token())
	if h.st != nil && !h.st.start.IsZero() {
		c.loop.stats.handshakes.observe(time.Since(h.st.start))
	}
	c.Switch(u.Token(), p, hr)
	h.release() // after Start: hr may point into the request state's buffer
}

// upgraderFor finds the upgrader, the route's then the server's, named by an Upgrade token.
func (s *Server) upgraderFor(route *Route, token []byte) Upgrader {
	for _, u := range route.Upgraders {
		if protocolMatches(u.Token(), token) {
			return u
		}
	}
	for _, u := range s.global {
		if protocolMatches(u.Token(), token) {
			return u
		}
	}
	return nil
}

// acceptedUpgrades lists, for a 426, the route's protocols or, on a route that has none
// of its own (one that requires the server-wide h2c, say), the server-wide ones. A route
// with its own does not list the server-wide ones: they switch the connection, but its
// request would then find no handler.
func (s *Server) acceptedUpgrades(route *Route) string {
	us := route.Upgraders
	if len(us) == 0 {
		us = s.global
	}
	list := make([]string, len(us))
	for i, u := range us {
		list[i] = u.Token()
	}
	return strings.Join(list, ", ")
}

// protocolMatches compares an upgrader's token with a client's protocol: names
// case-insensitively, versions only when the upgrader names one (RFC 9110 §7.8).
func protocolMatches(want string, got []byte) bool {
	name, version := parser.SplitProtocol(got)
	wantName, wantVersion, hasVersion := strings.Cut(want, "/")
	if !parser.EqualFold(name, wantName) {
		return false
	}
	return !hasVersion || parser.EqualFold(version, wantVersion)
}

// answerRejection sends u's refusal; the connection stays usable. A 426 names the
// protocol it wants in Upgrade, with Connection: Upgrade (RFC 9110 §15.5.22).
func (h *http1) answerRejection(req *parser.Request, from int64, u Upgrader, rej *Rejection) {
	connOpt, raw := "", rej.Header
	if rej.Status == 426 && u != nil {
		connOpt, raw = "Upgrade", "Upgrade: "+u.Token()+"\r\n"+raw
	}
	if rej.ContentType == "" {
		h.respond(req, from, rej.Status, connOpt, raw, rej.Reason)
	} else {
		h.respondTyped(req, from, rej.Status, connOpt, raw, rej.ContentType, rej.Reason)
	}
	kind := rej.Kind
	if kind == "" {
		kind = "rejected"
	}
	h.c.loop.stats.outcome(rej.Status, kind)
	h.c.LogRefusal(rej.Status, rej.Reason)
}

// answer426 tells a plain request that the route requires an upgrade, listing what it
// accepts in preference order, and says in the body what was missing.
func (h *http1) answer426(route *Route, req *parser.Request) {
	list := h.c.srv.acceptedUpgrades(route)
	kind, reason := diagnose426(list, req)
	h.respond(req, h.startedAt(), 426, "Upgrade", "Upgrade: "+list+"\r\n", reason)
	h.c.loop.stats.outcome(426, kind)
	h.c.LogRefusal(426, reason)
}

// diagnose426 names what the request lacked, and the usual cause.
func diagnose426(accepts string, req *parser.Request) (kind, reason string) {
	upgrade := joinedValues(req, parser.HeaderUpgrade)
	switch {
	case upgrade == "":
		return "no_upgrade_header", "426 Upgrade Required: this endpoint speaks " + accepts + ", but the request had no Upgrade header. " +
			"Send 'Upgrade: " + firstToken(accepts) + "' and 'Connection: Upgrade'. If the client did send them, " +
			"a proxy or load balancer on the way removed them: Upgrade and Connection are hop-by-hop headers, which " +
			"proxies drop unless configured to pass them on (nginx: proxy_http_version 1.1; " +
			"proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\")."
	case req.ProtoMinor == 0:
		return "http10_upgrade", "426 Upgrade Required: the request asked for 'Upgrade: " + upgrade + "' over HTTP/1.0, which cannot " +
			"upgrade (RFC 9110 §7.8). Send the request as HTTP/1.1; a proxy that talks HTTP/1.0 to its upstream " +
			"(nginx's default proxy_http_version) causes this."
	case !req.ConnUpgrade:
		conn := joinedValues(req, parser.HeaderConnection)
		had := "no Connection header"
		if conn != "" {
			had = "'Connection: " + conn + "'"
		}
		return "connection_without_upgrade", "426 Upgrade Required: the request had 'Upgrade: " + upgrade + "' but " + had + ", which does not " +
			"list 'upgrade', so no upgrade was requested (RFC 9110 §7.8). Send 'Connection: Upgrade' too. When the " +
			"client did, a proxy that strips or rewrites hop-by-hop headers is the usual cause."
	default:
		return "unsupported_protocol", "426 Upgrade Required: the request asked for 'Upgrade: " + upgrade + "', but this endpoint speaks " +
			accepts + " (or refused the request's other headers for it)."
	}
}

// joinedValues is every line of a header joined with ", ", bounded for a response body.
func joinedValues(req *parser.Request, id parser.HeaderID) string {
	var b strings.Builder
	for i := range req.Headers {
		if req.Headers[i].ID != id {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.Write(req.Headers[i].Value)
		if b.Len() > 200 {
			return b.String()[:200] + "…"
		}
	}
	return b.String()
}

func firstToken(list string) string {
	first, _, _ := strings.Cut(list, ",")
	return first
}

// LogRefusal records why a request or a connection was refused (status 0 when no HTTP
// status applies, such as an HTTP/2 connection error), at Debug level and rate-limited
// (Config.LogRate), so a busy server pays nothing unless asked. Loop only.
func (c *Conn) LogRefusal(status int, reason string) {
	s := c.srv
	if !s.cfg.Logger.Enabled(context.Background(), slog.LevelDebug) ||
		!s.logs.allow(s.clock.now()/1e9, s.cfg.LogRate, s.cfg.Logger) {
		return
	}
	s.cfg.Logger.Debug("switchyard: request refused", "status", status, "reason", reason,
		"remote", c.RemoteAddr().String())
}
