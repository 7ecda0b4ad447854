// Switchyard patch (not in upstream gnet v2.10.0): a connection whose reading is paused
// (Conn.PauseRead) still learns that its peer has hung up.
//
// Why: while reading is paused nothing is read, so the end of the stream is not seen
// until reading resumes; the server pauses a connection while a net/http handler runs
// on its worker pool (server.NetHTTP), and net/http cancels a request's context when the
// client goes away, which handlers rely on to stop work nobody will receive. The hang-up
// (EPOLLRDHUP) is reported once, on the loop; the connection is not closed for it, since
// a half-closed HTTP/1.1 client may still be waiting for its response. Linux only: the
// kqueue pollers do not report it.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

// PeerHangupHandler is implemented by an EventHandler that wants to know, on the loop,
// when the peer of a connection whose reading is paused has closed or shut down its
// sending side.
type PeerHangupHandler interface {
	OnPeerHangup(c Conn)
}

// peerHungUp reports a hang-up seen while c's reading is paused.
func (el *eventloop) peerHungUp(c *conn) {
	if h, ok := el.eventHandler.(PeerHangupHandler); ok {
		h.OnPeerHangup(c)
	}
}
