package admin

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/internal/h2ws"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// WebSockets are counted by transport: upgraded HTTP/1.1 connections (h1) and HTTP/2
// streams opened by extended CONNECT (h2, RFC 8441).
func TestMetricsWebSocketsByTransport(t *testing.T) {
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 2})
	srv.Upgrade(http2.New(http2.Config{}))
	srv.Route("/ws", server.Route{Upgraders: []server.Upgrader{websocket.New(websocket.Handler{})}})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.Write([]byte("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("HTTP/1.1 upgrade: %v %v", resp, err)
	}
	hc, err := h2ws.Dial(srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	for i := 0; i < 2; i++ {
		if _, resp, err := hc.Connect("/ws"); err != nil || resp.Status != 200 {
			t.Fatalf("extended CONNECT: %v %v", resp, err)
		}
	}
	body := scrape(t, srv)
	for _, want := range []string{
		`switchyard_websockets_open{transport="h1"} 1`,
		`switchyard_websockets_open{transport="h2"} 2`,
		`switchyard_upgrade_outcomes_total{reason="websocket",status="101"} 1`,
		`switchyard_upgrade_outcomes_total{reason="websocket",status="200"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("scraped:\n%s", grepSwitchyard(body))
	}
}
