package server_test

import (
	"context"
	"os/signal"
	"syscall"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
)

// The README's embedding example: HTTP on /, a WebSocket chat room on /chat, HTTP/2 on
// every route, graceful shutdown on SIGINT/SIGTERM.
func Example() {
	srv := server.New(server.Config{Addr: ":8080"})
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/plain")
		w.WriteString("hello\n") // the same handler serves HTTP/1.1 and HTTP/2
	}})
	hub := server.NewHub()
	srv.Route("/chat", server.Route{
		RequireUpgrade: true, // plain HTTP/1.1 gets 426 Upgrade: websocket
		Upgraders: []server.Upgrader{server.WebSocket(server.WebSocketHandler{
			OnOpen:  hub.Add,
			OnClose: func(c *server.WSConn, code ws.StatusCode, reason string) { hub.Remove(c) },
			OnMessage: func(c *server.WSConn, m server.Message) {
				hub.Broadcast(server.NewPreparedMessage(m.Op, m.Payload, 0, 0)) // framed once
			},
		})},
	})
	srv.EnableHTTP2(server.H2Config{}) // h2c upgrade and prior knowledge, every route
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	_ = srv.Serve(ctx) // graceful shutdown when ctx ends
}
