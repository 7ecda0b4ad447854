// Package websocket is switchyard's WebSocket protocol (RFC 6455, permessage-deflate RFC
// 7692): an Upgrader for a route (New), the connection handle its callbacks get (Conn),
// rooms to broadcast to (Hub) and messages framed once for many connections
// (PreparedMessage).
//
// It is a server.Protocol like any a user could write: it reads frames from the bytes the
// core hands it and writes through the connection's transport, so the core's send budget,
// timers and shutdown apply to it as to every protocol.
//
// Threading: callbacks run on the connection's event loop and must not block. Methods of
// Conn whose names end in Async are safe from any goroutine; the others are for the
// callbacks (loop only). Payloads handed to callbacks are views valid only during the call.
package websocket
