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
