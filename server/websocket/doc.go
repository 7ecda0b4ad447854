// Package websocket is switchyard's WebSocket protocol (RFC 6455, permessage-deflate RFC
// 7692): an Upgrader for a route (New), the connection handle its callbacks get (Conn),
// rooms to broadcast to (Hub) and messages framed once for many connections
// (PreparedMessage).
//
// It is a server.Protocol like any a user could write: it reads frames from the bytes the
// core hands it and writes through the connection's transport, so the core's send budget,
// timers and shutdown apply to it as to every protocol. The same Handler serves a
// WebSocket opened by extended CONNECT on an HTTP/2 stream (RFC 8441, h2upgrade.go), whose
// transport is then the stream.
//
// Threading: callbacks run on the connection's event loop and must not block, unless the
// route sets Handler.UseWorkerPool: then OnOpen, OnMessage and OnClose run on the
// server's worker pool, one at a time per connection and in order, the connection's input
// paused meanwhile (offloop.go). Methods of Conn whose names end in Async are safe from
// any goroutine; the others are for the callbacks (loop only; on a UseWorkerPool route
// Write and Close are their Async forms). Payloads handed to callbacks are valid only
// during the call: views of the loop's input, or on the pool a pooled copy.
package websocket
