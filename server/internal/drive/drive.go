// Package drive lets the protocols' tests and benchmarks run a connection of a real server
// without a socket: the transport is memory, and each Feed is one read served exactly as
// the event loop serves it (the protocol's Serve, the output flushed, the input kept or
// discarded). Package server provides the implementation; nothing outside server/ can
// import this.
package drive

// Conn is a connection on an event loop of its own, speaking HTTP/1.1 first as every
// connection does.
type Conn interface {
	// Feed delivers in as one read and serves it. in is copied first (protocols unmask in
	// place). It reports whether the connection is closing.
	Feed(in []byte) (closing bool)
	// Record keeps what the server writes, for Output; off, writes are only counted.
	Record(on bool)
	// Output is what the server wrote while recording; Reset empties it.
	Output() []byte
	Reset()
	// Written counts every byte the server wrote.
	Written() int
	// Buffered is the input received and not yet consumed.
	Buffered() int
	// SetBacklog sets what the socket has not taken yet (OutboundBuffered), for
	// backpressure tests; when it goes down the server hears of it as of a writable
	// event's write (OnWritten). No wheel turns a driven connection's loop.
	SetBacklog(n int)
	// Protocol is the protocol now speaking on the connection.
	Protocol() any
	// Close ends the connection as a socket's close would (Protocol.Closed runs).
	Close()
}

// New returns a connection of srv (a *server.Server); set by package server.
var New func(srv any) Conn
