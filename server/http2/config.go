package http2

import (
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
)

// Config tunes HTTP/2 (RFC 9113). The zero value of every field means its default.
type Config struct {
	// MaxConcurrentStreams is the SETTINGS_MAX_CONCURRENT_STREAMS the server advertises
	// (default 100); a stream past it is refused with RST_STREAM REFUSED_STREAM (§5.1.2).
	// A stream reset while its worker-pool handler runs counts until the handler returns.
	MaxConcurrentStreams uint32
	// StreamWindow is the SETTINGS_INITIAL_WINDOW_SIZE the server advertises: how much
	// request body a client may send on one stream ahead of the server (default 256 KiB).
	// Below 65,535 it holds once the client acknowledges the server's SETTINGS (RFC 9113
	// §6.9.3); the ACK is due within the server's HeaderTimeout, or the connection ends
	// with SETTINGS_TIMEOUT (§6.5.3).
	StreamWindow uint32
	// ConnWindow is the connection's receive window (default 1 MiB), raised from the
	// RFC's 65,535 with a WINDOW_UPDATE right after the server's SETTINGS.
	ConnWindow uint32
	// MaxHeaderListSize is the SETTINGS_MAX_HEADER_LIST_SIZE the server advertises and
	// enforces (default 64 KiB of decoded fields, RFC 9113 §6.5.2); a larger request gets
	// 431. The encoded block, CONTINUATION frames included, is bounded by h2.HeaderDecoder.
	MaxHeaderListSize uint32
	// MaxBufferedBody caps the request body bytes one connection buffers across its
	// streams (default: twice the server's Limits.MaxBodyBytes). Past it only one stream's
	// window is replenished until its body is complete, and the others wait for handlers
	// to consume bodies; the connection then holds at most MaxBufferedBody + ConnWindow +
	// MaxBodyBytes + (MaxConcurrentStreams-1) x StreamWindow (see data.go). A body handed
	// to a worker-pool handler counts until the handler returns, its stream reset or not;
	// only one that outlives the server's HandlerTimeout (its stream answered 503 and its
	// slot freed) is outside the bound, which the server's WorkerPoolSize bounds instead.
	MaxBufferedBody int
	// ResetLimit and ResetWindow bound rapid reset (CVE-2023-44487): more than ResetLimit
	// RST_STREAM frames from the client within ResetWindow streams it opened end the
	// connection with GOAWAY ENHANCE_YOUR_CALM (defaults 100 per 200 streams). The
	// RST_STREAMs the server sends for stream errors the client caused (any code but
	// NO_ERROR, REFUSED_STREAM and its own CANCEL) count too (MadeYouReset, CVE-2025-8671).
	ResetLimit, ResetWindow int
	// MaxControlFrames bounds, per second, the frames that cost the server work without
	// carrying a request: PING, SETTINGS, PRIORITY, RST_STREAM, unknown types, empty
	// DATA and the header blocks the server ignores or refuses (on a stream it reset, a
	// new stream after its GOAWAY, one past MAX_CONCURRENT_STREAMS) (default 10000).
	// Past it: GOAWAY ENHANCE_YOUR_CALM.
	MaxControlFrames int
	// MaxContinuations bounds the CONTINUATION frames of one header block (default 256):
	// empty ones cost the decoder nothing per byte, so bytes alone would not stop a flood.
	MaxContinuations int
	// IdleTimeout ends a connection with no open stream and no traffic with GOAWAY
	// (default: the server's IdleTimeout).
	IdleTimeout time.Duration
}

// resolved is a Config with defaults applied against the server's settings, plus what a
// connection needs of those, resolved once per server.
type resolved struct {
	Config
	maxBody                   int64
	headerTimeout, bodyTimout time.Duration
	minBodyRate               int64 // bytes per second (bodytimeout.go)
	handlerTimeout            time.Duration
	serverName                string
	// extConnect: the server has a protocol extended CONNECT opens (RFC 8441), so
	// SETTINGS_ENABLE_CONNECT_PROTOCOL is advertised and :protocol accepted.
	extConnect bool
}

func (c Config) resolve(s *server.Server) *resolved {
	cfg := s.Config()
	srv := &cfg
	return &resolved{Config: c.withDefaults(srv), maxBody: srv.Limits.MaxBodyBytes,
		headerTimeout: srv.HeaderTimeout, bodyTimout: srv.BodyTimeout, handlerTimeout: srv.HandlerTimeout,
		minBodyRate: int64(max(srv.MinBodyRate, 1)),
		serverName:  srv.ServerName,
		extConnect:  s.ExtendedConnect()}
}

func (c Config) withDefaults(srv *server.Config) Config {
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = 100
	}
	if c.StreamWindow == 0 {
		c.StreamWindow = 256 << 10
	}
	c.StreamWindow = min(c.StreamWindow, h2.MaxWindowSize)
	if c.ConnWindow < 65535 {
		c.ConnWindow = 1 << 20
	}
	c.ConnWindow = min(c.ConnWindow, h2.MaxWindowSize)
	if c.MaxHeaderListSize == 0 {
		c.MaxHeaderListSize = 64 << 10
	}
	if c.MaxBufferedBody <= 0 {
		c.MaxBufferedBody = int(2 * srv.Limits.MaxBodyBytes)
	}
	c.MaxBufferedBody = max(c.MaxBufferedBody, int(srv.Limits.MaxBodyBytes))
	if c.ResetLimit <= 0 {
		c.ResetLimit = 100
	}
	if c.ResetWindow <= c.ResetLimit {
		c.ResetWindow = 2 * c.ResetLimit
	}
	if c.MaxControlFrames <= 0 {
		c.MaxControlFrames = 10000
	}
	if c.MaxContinuations <= 0 {
		c.MaxContinuations = 256
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = srv.IdleTimeout
	}
	return c
}

// ourSettings is what the server announces in its preface SETTINGS frame.
func (c *resolved) ourSettings() h2.Settings {
	s := h2.DefaultSettings()
	s.EnablePush = false // a server never pushes here; 0 is the only value it may send
	s.MaxConcurrentStreams = c.MaxConcurrentStreams
	s.InitialWindowSize = c.StreamWindow
	s.MaxHeaderListSize = c.MaxHeaderListSize
	s.EnableConnectProtocol = c.extConnect // RFC 8441 §3
	return s
}
