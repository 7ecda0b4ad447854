package server

import "github.com/switchyard-dev/switchyard/frame/ws"

// Drain starts the close handshake with 1001 (Going Away, RFC 6455 §7.4.1) when the
// server shuts down; the connection closes when the peer answers or CloseTimeout passes.
func (w *WSConn) Drain(c *Conn) { w.closeWith(ws.StatusGoingAway, "server shutting down") }
