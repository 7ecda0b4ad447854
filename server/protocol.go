package server

// Protocol owns a connection after a switch (or from its first byte, for HTTP/2 with prior
// knowledge). All methods run on the connection's event loop goroutine and must not block.
type Protocol interface {
	// Start runs right after the switch, with the request that asked for it (nil for a
	// connection that started in this protocol). The 101 response is already in the write
	// batch, so anything Start writes follows it on the wire. r and its views are valid only
	// during the call.
	Start(c *Conn, r *Request)
	// Serve consumes bytes received from the peer and returns how many it used. Bytes it
	// leaves are kept and offered again, followed by what arrives next. in is a view valid
	// only during the call. A non-nil error closes the connection once the batch is written.
	Serve(c *Conn, in []byte) (consumed int, err error)
	// Timeout is called once the deadline set with Conn.SetDeadline has passed.
	Timeout(c *Conn)
	// Closed is called once, when the connection has gone.
	Closed(c *Conn, err error)
}

// Upgrader switches a connection to one protocol named in an Upgrade header.
type Upgrader interface {
	// Token is the protocol's name as it appears in Upgrade (matched case-insensitively),
	// optionally with a version ("websocket", "h2c", "bar/2"). A token without a version
	// matches any version the client names.
	Token() string
	// Upgrade decides on a request that asked for this protocol. To accept, it returns the
	// Protocol that takes over and may append extra 101 header lines (each ending in CRLF)
	// to hdr. To refuse with an answer it returns a Rejection; to ignore the request for
	// this protocol (so the next one the client offered, or HTTP/1.1, serves it) it returns
	// Decline. r and its views are valid only during the call.
	Upgrade(c *Conn, r *Request, hdr []byte) (p Protocol, out []byte, rej *Rejection)
}

// Rejection is an upgrade refused with an HTTP answer whose body tells the client why.
type Rejection struct {
	Status int
	// Header holds extra header lines, each ending in CRLF (e.g. "Sec-WebSocket-Version: 13\r\n").
	Header string
	// Reason is the response body: which header was missing or wrong, and what to do.
	Reason string
	// Kind names the refusal in metrics ("websocket_version"); empty counts as "rejected".
	Kind string
}

// Decline is the Rejection an Upgrader returns to let the request be served as if it had
// not asked for its protocol.
var Decline = &Rejection{}
