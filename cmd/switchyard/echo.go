package main

import (
	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
)

// echoUpgraders are the protocols /echo switches to: a WebSocket echo that sends each
// message back with its opcode, compressed when the client offered permessage-deflate.
func echoUpgraders(checkOrigin func(*server.Request) bool) []server.Upgrader {
	return []server.Upgrader{server.WebSocket(server.WebSocketHandler{
		OnMessage: func(c *server.WSConn, m server.Message) {
			_ = c.Reply(m.Op, m.Payload)
		},
		CheckOrigin: checkOrigin,
		Compression: &ws.DeflateConfig{},
	})}
}

// echoBody answers an HTTP/2 request to /echo with its body. (Over HTTP/1.1 the route
// requires an upgrade, so plain requests get 426 and never reach it.)
func echoBody(w *server.ResponseWriter, r *server.Request) {
	if ct := r.Get("Content-Type"); ct != nil {
		w.HeaderBytes("Content-Type", ct)
	} else {
		w.Header("Content-Type", "application/octet-stream")
	}
	_, _ = w.Write(r.Body)
}
