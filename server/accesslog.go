package server

import (
	"context"
	"log/slog"

	"github.com/switchyard-dev/switchyard/parser"
)

// Access is one answered request as the access log records it (Config.AccessLog): what
// a protocol knows of the request and of the response it queued for it.
type Access struct {
	Proto  string // "HTTP/1.1", "HTTP/1.0" or "HTTP/2.0"; empty for a request that could not be read
	Method string
	Target string // the request-target as sent
	Status int
	Bytes  int // body bytes sent (none for HEAD, 1xx, 204 and 304)
	// From is Conn.Now when the request began: over HTTP/1.1 its first bytes (as nginx's
	// $request_time), over HTTP/2 the read that completed its head; 0 when unknown,
	// logged as a duration of 0.
	From int64
	// Upgrade is the protocol the response switched to: a 101's, or that of an HTTP/2
	// extended CONNECT's 200 (RFC 8441); empty otherwise.
	Upgrade string
}

// AccessLogging reports whether the server keeps an access log (Config.AccessLog). A
// protocol keeps what it logs only then, so that a server without one pays a nil check
// per request. Safe from any goroutine.
func (c *Conn) AccessLogging() bool { return c.srv.cfg.AccessLog != nil }

// LogAccess writes a's line to Config.AccessLog, at Info: proto, method, target, status,
// bytes, duration_us (from a.From to now, on Conn.Now's clock), remote (RemoteAddr), and
// upgrade when set. Call it once the response is queued, once per answered request; it
// does nothing without an access log. Safe from any goroutine.
func (c *Conn) LogAccess(a Access) {
	log := c.srv.cfg.AccessLog
	if log == nil || !log.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	var us int64
	if a.From != 0 {
		us = (c.Now() - a.From) / 1e3
	}
	attrs := [...]slog.Attr{
		slog.String("proto", a.Proto), slog.String("method", a.Method), slog.String("target", a.Target),
		slog.Int("status", a.Status), slog.Int("bytes", a.Bytes), slog.Int64("duration_us", us),
		slog.String("remote", c.RemoteAddr().String()), slog.String("upgrade", a.Upgrade),
	}
	n := len(attrs)
	if a.Upgrade == "" {
		n-- // upgrade is last: only upgrades carry it
	}
	log.LogAttrs(context.Background(), slog.LevelInfo, "access", attrs[:n]...)
}

// logAccess logs the response to an HTTP/1.x request, req (without a method: one that
// could not be read), with status and body bytes sent; from is when it began
// (http1.startedAt). Its callers check Config.AccessLog first, so that a server without
// one builds nothing for it.
func (h *http1) logAccess(req *parser.Request, from int64, status, bytes int, upgrade string) {
	a := Access{Status: status, Bytes: bytes, From: from, Upgrade: upgrade}
	if req.Method != nil {
		a.Proto, a.Method, a.Target = protoName(1, req.ProtoMinor), string(req.Method), string(req.Target)
	}
	h.c.LogAccess(a)
}
