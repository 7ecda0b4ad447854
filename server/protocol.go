package server

// Protocol speaks on a connection: HTTP/1.1 from its first byte, then whatever the
// connection switched to (WebSocket, HTTP/2, or a protocol of your own). The built-in
// protocols implement exactly this contract. All methods run on the connection's event
// loop goroutine and must not block.
type Protocol interface {
	// Start runs right after the switch, with the request that asked for it (nil for a
	// connection that started in this protocol). The 101 response is already queued, so
	// anything Start writes follows it on the wire. r and its views are valid only during
	// the call.
	Start(c *Conn, r *Request)
	// Serve consumes bytes received from the peer and returns how many it used. Bytes it
	// leaves are kept and offered again, followed by what arrives next; a decode loop
	// stops at a unit boundary once c.Saturated() says the peer is not reading. in is a
	// view valid only during the call. A non-nil error (ErrClose, or the protocol's own)
	// closes the connection once what was queued has been written.
	Serve(c *Conn, in []byte) (consumed int, err error)
	// Timeout is called once the deadline set with Conn.SetDeadline has passed.
	Timeout(c *Conn)
	// Closed is called once, when the connection has gone.
	Closed(c *Conn, err error)
}

// Drainer is implemented by protocols that can end a connection gracefully when the server
// shuts down: WebSocket sends close 1001 (Going Away), HTTP/2 sends GOAWAY with the last
// stream it will serve and lets open streams finish, HTTP/1.1 lets the request in flight
// finish with "Connection: close". Drain runs on the connection's loop; the protocol
// closes the connection once it is done. A protocol without Drain is closed at once.
type Drainer interface {
	Drain(c *Conn)
}

// Upgrader switches a connection to one protocol named in an Upgrade header.
type Upgrader interface {
	// Token is the protocol's name as it appears in Upgrade (matched case-insensitively),
	// optionally with a version ("websocket", "h2c", "bar/2"). A token without a version
	// matches any version the client names. It also names the protocol in Stats.Open.
	Token() string
	// Upgrade decides on a request that asked for this protocol. To accept, it returns the
	// Protocol that takes over and may append extra 101 header lines (each ending in CRLF)
	// to hdr; lines that are not valid fields, and Content-Length, Transfer-Encoding and
	// Connection, are dropped (the server writes those itself). To refuse with an answer it returns a Rejection; to ignore the request for
	// this protocol (so the next one the client offered, or HTTP/1.1, serves it) it returns
	// Decline. r and its views are valid only during the call.
	Upgrade(c *Conn, r *Request, hdr []byte) (p Protocol, out []byte, rej *Rejection)
}

// PriorKnowledge is implemented by an Upgrader whose protocol a client may also speak
// from its connection's first byte, announced by HTTP/2's client preface instead of an
// Upgrade header (RFC 9113 §3.3). Server.Upgrade accepts both ways.
type PriorKnowledge interface {
	// StartWithPreface returns the protocol for a connection that opened with the preface;
	// its Serve sees the preface first.
	StartWithPreface(c *Conn) Protocol
}

// Rejection is an upgrade refused with an HTTP answer whose body tells the client why.
type Rejection struct {
	Status int
	// Header holds extra header lines, each ending in CRLF (e.g. "Sec-WebSocket-Version: 13\r\n").
	// Lines that are not valid fields (a name of tchars; a value without control
	// characters but HTAB, RFC 9110 §5.5), and the fields that frame the response, are
	// dropped, so an upgrader cannot split the answer. A 426 over HTTP/1.1 gets "Upgrade: <the upgrader's token>" and "Connection: Upgrade"
	// from the server (RFC 9110 §15.5.22): Header does not repeat them.
	Header string
	// Reason is the response body: which header was missing or wrong, and what to do.
	Reason string
	// ContentType is Reason's media type ("application/json"); empty means plain text,
	// to which a final newline is added.
	ContentType string
	// Kind names the refusal in metrics ("websocket_version"); empty counts as "rejected".
	Kind string
}

// Decline is the Rejection an Upgrader returns to let the request be served as if it had
// not asked for its protocol.
var Decline = &Rejection{}
