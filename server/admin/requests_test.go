package admin

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	h2server "github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/websocket"
	"golang.org/x/net/http2"
)

// TestMetricsCountResponsesByClass: each answered request counts once under its protocol
// and status class, whether its handler ran on the loop or the worker pool, and is timed
// in its protocol's histogram unless it could not be parsed.
func TestMetricsCountResponsesByClass(t *testing.T) {
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 2})
	srv.Route("/ok", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) { _, _ = w.WriteString("ok") }})
	srv.Route("/pool", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) { w.WriteHeader(500) }})
	srv.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{})}})
	srv.Upgrade(h2server.New(h2server.Config{}))
	serve(t, srv)

	exchange(t, srv, strings.Repeat("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", 3), 3)                    // 3 × 200
	exchange(t, srv, strings.Repeat("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n", 2), 2)               // 2 × 404
	exchange(t, srv, "GET /pool HTTP/1.1\r\nHost: x\r\n\r\n", 1)                                     // 500 from the pool
	exchange(t, srv, "GET /ok HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 1)                            // 400, not timed
	exchange(t, srv, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+ // 101
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 1)
	getH2PriorKnowledge(t, srv, "/ok") // 200 over HTTP/2

	body := scrape(t, srv)
	for _, want := range []string{
		`switchyard_http_responses_total{code="1xx",proto="HTTP/1.1"} 1`,
		`switchyard_http_responses_total{code="2xx",proto="HTTP/1.1"} 3`,
		`switchyard_http_responses_total{code="3xx",proto="HTTP/1.1"} 0`,
		`switchyard_http_responses_total{code="4xx",proto="HTTP/1.1"} 3`,
		`switchyard_http_responses_total{code="5xx",proto="HTTP/1.1"} 1`,
		`switchyard_http_responses_total{code="2xx",proto="HTTP/2.0"} 1`,
		`switchyard_http_responses_total{code="4xx",proto="HTTP/2.0"} 0`,
		`switchyard_http_request_duration_seconds_count{proto="HTTP/1.1"} 8`, // the 400 too: timed from its first bytes
		`switchyard_http_request_duration_seconds_count{proto="HTTP/2.0"} 1`,
		`switchyard_http_request_duration_seconds_bucket{proto="HTTP/2.0",le="+Inf"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("scraped:\n%s", grepSwitchyard(body))
	}
}

// getH2PriorKnowledge sends one GET over HTTP/2 in cleartext with prior knowledge (RFC
// 9113 §3.3) and reads its response.
func getH2PriorKnowledge(t *testing.T, srv *server.Server, path string) {
	t.Helper()
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("http://" + srv.Addr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
		t.Fatalf("HTTP/2 GET %s: %s %s", path, resp.Proto, resp.Status)
	}
}
