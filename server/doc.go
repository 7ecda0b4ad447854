// Package server is switchyard's engine: it accepts sockets, runs them on gnet event loops,
// speaks HTTP/1.1 through package parser, and switches a connection in place to another
// protocol (WebSocket, HTTP/2) when the client asks with Upgrade (RFC 9110 §7.8) and the
// route accepts it.
//
// The path of a byte: gnet hands a connection's buffered input to its conn, whose current
// Protocol consumes as much as forms whole units (requests, frames). A successful upgrade
// replaces the Protocol and hands it the rest of the same buffer at once, so bytes the client
// sent right behind its upgrade request reach the new protocol. Everything a conn writes while
// handling one read is collected in its loop's batch and written with one system call.
//
// Threading: every conn belongs to one event loop goroutine. Handlers run on that goroutine
// unless their Route asks for the worker pool; they must not block there. Other goroutines
// reach a connection only through the methods documented as safe for concurrent use.
package server
