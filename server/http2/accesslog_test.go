package http2

import (
	"bufio"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// poolWait is how long the worker-pool route's handler takes: its line's duration covers
// at least that (a lower bound, not a window).
const poolWait = 20 * time.Millisecond

// An HTTP/2 stream's request gets one access-log line when its response is queued, with
// the same fields as over HTTP/1.1: from a handler on the loop, one on the worker pool,
// and the server's 404; an h2c upgrade is the HTTP/1.1 101 (naming h2c) and then the
// HTTP/2.0 response on stream 1.
func TestAccessLogHTTP2(t *testing.T) {
	var out servertest.LogBuffer
	s := startServer(t, server.Config{Logger: discard, AccessLog: slog.New(slog.NewJSONHandler(&out, nil))}, func(s *server.Server) {
		s.Route("/hello", server.Route{HTTP: okHandler("hello")})
		s.Route("/pool", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
			time.Sleep(poolWait)
			w.WriteHeader(201)
			_, _ = w.WriteString("made on the pool")
		}})
		s.Upgrade(New(Config{}))
	})
	logged := 0 // lines checked so far: one per response
	next := func(t *testing.T) map[string]any {
		t.Helper()
		var recs []map[string]any
		servertest.Eventually(t, "the response's access-log line", func() bool {
			recs = out.Records(t, "access")
			return len(recs) > logged
		})
		logged++
		return recs[logged-1]
	}
	t.Cleanup(func() {
		if n := len(out.Records(t, "access")); n != logged {
			t.Errorf("%d access-log lines for %d responses:\n%s", n, logged, out.String())
		}
	})

	t.Run("prior knowledge", func(t *testing.T) {
		c := dial(t, s)
		cl := newH2Client(t, c, bufio.NewReader(c))
		cl.write(clientPreface())
		for i, tc := range []struct {
			method, target string
			body           []byte
			status         int
		}{
			{"GET", "/hello?x=1", nil, 200},
			{"HEAD", "/hello", nil, 200},
			{"POST", "/pool", []byte("hi"), 201},
			{"GET", "/nope", nil, 404},
		} {
			id := uint32(2*i + 1)
			cl.write(cl.request(nil, id, tc.method, tc.target, tc.body))
			r := cl.readUntil(id).streams[id]
			if r == nil || r.status != strconv.Itoa(tc.status) {
				t.Fatalf("%s %s: response %+v, want %d", tc.method, tc.target, r, tc.status)
			}
			rec := next(t)
			servertest.CheckAccess(t, rec, map[string]any{"proto": "HTTP/2.0", "method": tc.method, "target": tc.target,
				"status": float64(tc.status), "bytes": float64(len(r.body)), "remote": c.LocalAddr().String()})
			if tc.target == "/pool" && rec["duration_us"].(float64) < float64(poolWait.Microseconds()) {
				t.Fatalf("duration_us %v: less than the handler's %v", rec["duration_us"], poolWait)
			}
		}
	})

	t.Run("h2c upgrade", func(t *testing.T) {
		c := dial(t, s)
		br := bufio.NewReader(c)
		servertest.Write(t, c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: "+
			settingsHeader()+"\r\n\r\n")
		if resp, _ := servertest.ReadResponse(t, br, "GET"); resp.StatusCode != 101 {
			t.Fatalf("status %d, want 101", resp.StatusCode)
		}
		servertest.CheckAccess(t, next(t), map[string]any{"proto": "HTTP/1.1", "method": "GET", "target": "/hello",
			"status": float64(101), "bytes": float64(0), "upgrade": "h2c", "remote": c.LocalAddr().String()})
		cl := newH2Client(t, c, br)
		cl.write(clientPreface())
		r := cl.readUntil(1).streams[1]
		if r == nil || r.status != "200" {
			t.Fatalf("stream 1: %+v, want 200", r)
		}
		servertest.CheckAccess(t, next(t), map[string]any{"proto": "HTTP/2.0", "method": "GET", "target": "/hello",
			"status": float64(200), "bytes": float64(len(r.body)), "remote": c.LocalAddr().String()})
	})
}
