package admin

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

func startServer(t *testing.T) *server.Server {
	t.Helper()
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 2})
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) { _, _ = w.WriteString("ok") }})
	srv.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnMessage: func(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) },
	})}})
	serve(t, srv)
	return srv
}

// serve starts srv, to stop when the test ends.
func serve(t *testing.T, srv *server.Server) {
	t.Helper()
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// exchange sends raw requests on one connection and reads n responses.
func exchange(t *testing.T, srv *server.Server, raw string, n int) {
	t.Helper()
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 101 {
			_, _ = io.Copy(io.Discard, resp.Body)
		}
		resp.Body.Close()
	}
}

func scrape(t *testing.T, srv *server.Server) string {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(srv).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

func TestMetricsCountKnownTraffic(t *testing.T) {
	srv := startServer(t)
	const ws = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	exchange(t, srv, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 3)
	exchange(t, srv, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 1)                       // 426: no Upgrade
	exchange(t, srv, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n", 1) // 426: Connection
	exchange(t, srv, ws+"Sec-WebSocket-Version: 13\r\n\r\n", 1)                      // 101
	exchange(t, srv, ws+"Sec-WebSocket-Version: 13\r\n\r\n", 1)                      // 101
	exchange(t, srv, "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 1)              // 400
	echoMessages(t, srv, ws+"Sec-WebSocket-Version: 13\r\n\r\n", "hello", "world!")  // 101, 2 messages each way
	deadline := time.Now().Add(5 * time.Second)
	var body string
	for {
		body = scrape(t, srv)
		if strings.Contains(body, `switchyard_connections_open{protocol="websocket"} 0`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		"switchyard_http_requests_total 8", // 3 GETs, two 426s, three upgrades; the 400 is a parse error, not a request
		`switchyard_upgrade_outcomes_total{reason="no_upgrade_header",status="426"} 1`,
		`switchyard_upgrade_outcomes_total{reason="connection_without_upgrade",status="426"} 1`,
		`switchyard_upgrade_outcomes_total{reason="websocket",status="101"} 3`,
		`switchyard_websocket_messages_total{direction="in"} 2`,
		`switchyard_websocket_messages_total{direction="out"} 2`,
		`switchyard_websocket_bytes_total{direction="in"} 11`,
		`switchyard_websocket_bytes_total{direction="out"} 11`,
		`switchyard_upgrade_outcomes_total{reason="malformed_request",status="400"} 1`,
		"switchyard_upgrade_handshake_seconds_count 3",
		`switchyard_http_responses_total{code="1xx",proto="HTTP/1.1"} 3`, // the 101s
		`switchyard_http_responses_total{code="2xx",proto="HTTP/1.1"} 3`,
		`switchyard_http_responses_total{code="4xx",proto="HTTP/1.1"} 3`,     // two 426s and the 400
		`switchyard_http_request_duration_seconds_count{proto="HTTP/1.1"} 9`, // each, timed from its first bytes
		`switchyard_connections_open{protocol="websocket"} 0`,
		`switchyard_connections_open{protocol="http1"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("scraped:\n%s", grepSwitchyard(body))
	}
}

func grepSwitchyard(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "switchyard_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestHealthAndProfiler(t *testing.T) {
	srv := startServer(t)
	h := Handler(srv)
	for path, want := range map[string]int{"/healthz": 200, "/debug/pprof/": 200} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
	}
}

// echoMessages upgrades with raw and sends each message as a masked text frame, reading
// its echo.
func echoMessages(t *testing.T, srv *server.Server, raw string, msgs ...string) {
	t.Helper()
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	for _, m := range msgs {
		if _, err := c.Write(ws.AppendMaskedFrame(nil, true, ws.OpText, 0, [4]byte{7, 7, 7, 7}, []byte(m))); err != nil {
			t.Fatal(err)
		}
		echo := make([]byte, 2+len(m))
		if _, err := io.ReadFull(br, echo); err != nil || string(echo[2:]) != m {
			t.Fatalf("echo of %q: %q %v", m, echo, err)
		}
	}
}
