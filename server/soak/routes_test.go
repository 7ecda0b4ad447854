package soak

import (
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// RootText is what GET / answers, as in `switchyard serve`.
const RootText = "switchyard: HTTP/1.1 and HTTP/2 (h2c) here; WebSocket echo at /echo\n"

// Timeouts are the per-connection timeouts the soak server runs with. They are short so
// that the silent and half-open connections the fault injectors leave behind are reaped
// within the run, which is part of what the soak checks.
type Timeouts struct {
	Header, Idle, Ping, Pong, Close time.Duration
}

// DefaultTimeouts reaps a silent connection within a few seconds. The timeouts a
// well-behaved client meets only when the machine stalls it (the keep-alive idle time, the
// pong wait) are longer than those that reap a half-sent request.
var DefaultTimeouts = Timeouts{Header: time.Second, Idle: 3 * time.Second,
	Ping: time.Second, Pong: 3 * time.Second, Close: 2 * time.Second}

// InstallRoutes gives srv the routes of `switchyard serve` (cmd/switchyard/routes.go):
// GET / answers RootText; /echo requires an upgrade over HTTP/1.1 and echoes WebSocket
// messages, with permessage-deflate offered, or over HTTP/2 the request body; HTTP/2 is
// accepted on every route by h2c upgrade and prior knowledge. It adds /body-echo, which
// echoes the request body without requiring an upgrade, so HTTP/1.1 clients can check
// bodies too.
func InstallRoutes(srv *server.Server, to Timeouts) {
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.WriteString(RootText)
	}})
	wsh := websocket.Handler{
		CheckOrigin:  websocket.AllowAnyOrigin,
		Compression:  &ws.DeflateConfig{},
		OnMessage:    func(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) },
		PingInterval: to.Ping, PongTimeout: to.Pong, CloseTimeout: to.Close,
	}
	srv.Route("/echo", server.Route{RequireUpgrade: true,
		Upgraders: []server.Upgrader{websocket.New(wsh)}, HTTP: EchoBody})
	srv.Route("/body-echo", server.Route{HTTP: EchoBody})
	srv.Upgrade(http2.New(http2.Config{IdleTimeout: to.Idle}))
}

// EchoBody answers a request with its body and Content-Type, like `switchyard serve`'s
// echo route.
func EchoBody(w *server.ResponseWriter, r *server.Request) {
	if ct := r.Get("Content-Type"); ct != nil {
		w.HeaderBytes("Content-Type", ct)
	} else {
		w.Header("Content-Type", "application/octet-stream")
	}
	_, _ = w.Write(r.Body)
}
