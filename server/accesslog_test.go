package server

import (
	"bufio"
	"log/slog"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// poolWait is how long the worker-pool route's handler takes: its line's duration covers
// at least that (a lower bound, not a window).
const poolWait = 20 * time.Millisecond

// laterUpgrader is testUpgrader deciding on the worker pool (Conn.UpgradeOffLoop).
type laterUpgrader struct{ testUpgrader }

func (u laterUpgrader) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	return c.UpgradeOffLoop(hdr, func(r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
		return u.testUpgrader.Upgrade(nil, r, hdr)
	})
}

// accessRoutes serve the access-log tests: a handler on the loop, one on the worker pool,
// and routes that only upgrade, to the test protocol "custom" decided on the loop and to
// "later" decided on the worker pool.
func accessRoutes(s *Server) {
	s.Route("/hello", Route{HTTP: okHandler("hello")})
	s.Route("/pool", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
		time.Sleep(poolWait)
		w.WriteHeader(201)
		_, _ = w.WriteString("made on the pool")
	}})
	s.Route("/custom", Route{RequireUpgrade: true, Upgraders: []Upgrader{testUpgrader{"custom"}}})
	s.Route("/later", Route{RequireUpgrade: true, Upgraders: []Upgrader{laterUpgrader{testUpgrader{"later"}}}})
}

// Every answered HTTP/1.x request gets one access-log line, once its response is queued,
// whatever answered it: a handler on the loop or on the worker pool, the server (404), an
// upgrade (101, naming the protocol), a refusal of one (426, an Upgrader's 400), or the
// parser (400, for a request that could not be read: no proto, method or target);
// upgrades decided on the worker pool too.
func TestAccessLogHTTP1(t *testing.T) {
	const upgrade = "Upgrade: custom\r\nConnection: Upgrade\r\n"
	cases := []struct {
		name, raw, method       string
		proto, target, protocol string // logged; method is logged as sent too
		status                  int
	}{
		{"GET on the loop", "GET /hello?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "HTTP/1.1", "/hello?x=1", "", 200},
		{"HEAD: no body sent", "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n", "HEAD", "HTTP/1.1", "/hello", "", 200},
		{"HTTP/1.0", "GET /hello HTTP/1.0\r\n\r\n", "GET", "HTTP/1.0", "/hello", "", 200},
		{"worker pool", "POST /pool HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi", "POST", "HTTP/1.1", "/pool", "", 201},
		{"no route: 404", "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "HTTP/1.1", "/nope", "", 404},
		{"upgrade: 101", "GET /custom HTTP/1.1\r\nHost: a\r\n" + upgrade + "\r\n", "GET", "HTTP/1.1", "/custom", "custom", 101},
		{"upgrade required: 426", "GET /custom HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "HTTP/1.1", "/custom", "", 426},
		{"refused by the upgrader: 400", "GET /custom HTTP/1.1\r\nHost: a\r\nX-Refuse: yes\r\n" + upgrade + "\r\n", "GET", "HTTP/1.1", "/custom", "", 400},
		{"upgrade decided on the pool: 101", "GET /later HTTP/1.1\r\nHost: a\r\nUpgrade: later\r\nConnection: Upgrade\r\n\r\n", "GET", "HTTP/1.1", "/later", "later", 101},
		{"refused on the pool: 400", "GET /later HTTP/1.1\r\nHost: a\r\nX-Refuse: yes\r\nUpgrade: later\r\nConnection: Upgrade\r\n\r\n", "GET", "HTTP/1.1", "/later", "", 400},
		{"refused by the parser: 400", "GET /hello HTTP/1.1\r\nNo colon here\r\n\r\n", "", "", "", "", 400},
	}
	var out servertest.LogBuffer
	s := startServer(t, Config{Logger: discard, AccessLog: slog.New(slog.NewJSONHandler(&out, nil))}, accessRoutes)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			write(t, c, tc.raw)
			resp, body := readResponse(t, bufio.NewReader(c), tc.method)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			var recs []map[string]any
			servertest.Eventually(t, "the request's access-log line", func() bool {
				recs = out.Records(t, "access")
				return len(recs) >= i+1
			})
			if len(recs) != i+1 {
				t.Fatalf("%d access-log lines after %d requests:\n%s", len(recs), i+1, out.String())
			}
			rec := recs[i]
			want := map[string]any{"level": "INFO", "proto": tc.proto, "method": tc.method, "target": tc.target,
				"status": float64(tc.status), "bytes": float64(len(body)), "remote": c.LocalAddr().String()}
			if tc.protocol != "" {
				want["upgrade"] = tc.protocol
			}
			servertest.CheckAccess(t, rec, want)
			if tc.name == "worker pool" && rec["duration_us"].(float64) < float64(poolWait.Microseconds()) {
				t.Fatalf("duration_us %v: less than the handler's %v", rec["duration_us"], poolWait)
			}
		})
	}
}
