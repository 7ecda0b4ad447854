package http2

import (
	"log/slog"
	"strconv"
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

// HTTP/2's refusals are logged as the requests they answer: a header list over
// MAX_HEADER_LIST_SIZE gets 431 (RFC 9113 §10.5.1) and a line with only its status and
// timing (its fields were not kept), a request that finds the worker pool full 503 at
// once, and one whose handler outlives HandlerTimeout 503 once that has passed.
func TestAccessLogHTTP2Refusals(t *testing.T) {
	const handlerTimeout = 300 * time.Millisecond
	for _, tc := range []struct {
		name  string
		cfg   server.Config
		h2cfg Config
		// send makes the request that is refused and returns its stream; entered gets a
		// value as each /block handler starts.
		send   func(cl *h2Client, entered <-chan struct{}) uint32
		status int
		method string // and target: "" for the 431's, whose fields were not kept
		target string
		waited time.Duration // a lower bound of the line's duration
	}{
		{"431 header list too large", server.Config{}, Config{MaxHeaderListSize: 1024},
			func(cl *h2Client, _ <-chan struct{}) uint32 {
				cl.write(h2.AppendHeaders(nil, 1, cl.overListSize("GET", "/"), true, 0))
				return 1
			}, 431, "", "", 0},
		{"503 worker pool full", server.Config{WorkerPoolSize: 1}, Config{},
			func(cl *h2Client, entered <-chan struct{}) uint32 {
				cl.write(cl.request(nil, 1, "GET", "/block", nil))
				<-entered // the pool's one worker is busy
				cl.write(cl.request(nil, 3, "GET", "/block?second", nil))
				return 3
			}, 503, "GET", "/block?second", 0},
		{"503 HandlerTimeout", server.Config{HandlerTimeout: handlerTimeout}, Config{},
			func(cl *h2Client, _ <-chan struct{}) uint32 {
				cl.write(cl.request(nil, 1, "GET", "/block", nil))
				return 1
			}, 503, "GET", "/block", handlerTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out servertest.LogBuffer
			entered, release := make(chan struct{}, 1), make(chan struct{})
			tc.cfg.AccessLog = slog.New(slog.NewJSONHandler(&out, nil))
			cl := h2DialWith(t, tc.cfg, tc.h2cfg, func(s *server.Server) {
				s.Route("/block", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
					entered <- struct{}{}
					<-release
				}})
			})
			t.Cleanup(func() { close(release) }) // before the server stops
			id := tc.send(cl, entered)
			r := cl.readUntil(id).streams[id]
			if r == nil || r.status != strconv.Itoa(tc.status) {
				t.Fatalf("stream %d: %+v, want %d", id, r, tc.status)
			}
			var recs []map[string]any
			servertest.Eventually(t, "the refusal's access-log line", func() bool {
				recs = out.Records(t, "access")
				return len(recs) > 0
			})
			servertest.CheckAccess(t, recs[0], map[string]any{"proto": "HTTP/2.0", "method": tc.method, "target": tc.target,
				"status": float64(tc.status), "bytes": float64(len(r.body)), "remote": cl.c.LocalAddr().String()})
			if d := recs[0]["duration_us"].(float64); d < float64(tc.waited.Microseconds()) {
				t.Fatalf("duration_us %v: less than the %v it waited", d, tc.waited)
			}
			if len(recs) != 1 { // a handler still blocked has answered nothing yet
				t.Fatalf("%d lines for one answer:\n%s", len(recs), out.String())
			}
		})
	}
}
