package http2

import (
	"log/slog"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// The answers HTTP/2 gives on its own get access-log lines too: the 200 that opens a
// WebSocket on a stream (RFC 8441) names the protocol in upgrade, and a stalled upload's
// 408 (BodyTimeout) is logged as the request it answers.
func TestAccessLogHTTP2OwnAnswers(t *testing.T) {
	t.Run("extended CONNECT", func(t *testing.T) {
		var out servertest.LogBuffer
		s := wsServer(t, server.Config{AccessLog: slog.New(slog.NewJSONHandler(&out, nil))}, Config{}, websocket.Handler{}, nil)
		c := wsDial(t, s)
		wsConnect(t, c)
		var recs []map[string]any
		servertest.Eventually(t, "the extended CONNECT's access-log line", func() bool {
			recs = out.Records(t, "access")
			return len(recs) > 0
		})
		servertest.CheckAccess(t, recs[0], map[string]any{"proto": "HTTP/2.0", "method": "CONNECT", "target": "/ws",
			"status": float64(200), "bytes": float64(0), "upgrade": "websocket"})
		if len(recs) != 1 {
			t.Fatalf("%d lines for one CONNECT:\n%s", len(recs), out.String())
		}
	})
	t.Run("stalled upload's 408", func(t *testing.T) {
		var out servertest.LogBuffer
		cl := h2Dial(t, server.Config{BodyTimeout: 300 * time.Millisecond, AccessLog: slog.New(slog.NewJSONHandler(&out, nil))},
			Config{IdleTimeout: time.Minute})
		cl.write(h2.AppendHeaders(nil, 1, cl.headers(":method", "POST", ":scheme", "http", ":path", "/echo", ":authority", "x"), false, 0))
		if r := cl.readUntil(1).streams[1]; r == nil || r.status != "408" {
			t.Fatalf("stream 1: %+v, want 408", r)
		}
		var recs []map[string]any
		servertest.Eventually(t, "the 408's access-log line", func() bool {
			recs = out.Records(t, "access")
			return len(recs) > 0
		})
		servertest.CheckAccess(t, recs[0], map[string]any{"proto": "HTTP/2.0", "method": "POST", "target": "/echo",
			"status": float64(408)})
		if d := recs[0]["duration_us"].(float64); d < 300_000 {
			t.Fatalf("duration_us %v: less than the BodyTimeout it waited", d)
		}
	})
}
