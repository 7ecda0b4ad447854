// Switchyard patch (not in upstream gnet v2.10.0): a connection's handler learns, on the
// loop, when the loop has written some of the output the socket would not take at once.
//
// Why: a server that stops reading a connection while its peer is behind on reading
// (backpressure) must start again once the backlog has gone down. Upstream reports
// nothing when the writable event drains the outbound buffer, so the server could only
// look again on a timer, and each pause cost up to a timer's tick of latency (a
// keep-alive client downloading responses larger than the send budget waited for it
// before every next request).

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

// WrittenHandler is implemented by an EventHandler that wants to know, on the loop, when
// a writable event has sent some of a connection's pending output (OutboundBuffered is
// then what is left). It may write to or close the connection.
type WrittenHandler interface {
	OnWritten(c Conn)
}

// wrote reports progress on c's pending output; c must not be used after it.
func (el *eventloop) wrote(c *conn) {
	if h, ok := el.eventHandler.(WrittenHandler); ok {
		h.OnWritten(c)
	}
}
