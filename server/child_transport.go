package server

import (
	"net"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// childTransport is a child connection's transport (Conn.tr): its input is the stream's
// DATA, handed over by Child.Deliver for the duration of one serve; its output is framed
// by the Carrier and written to the parent's socket (into its cork during the parent's
// turn, cork.go). That write is in order: the loop's batch belongs to one connection at a
// time, so the parent's own output was written before the child's turn began. A child owns no socket: gnet never sees it, and
// closing it ends its stream (Conn.closeChild), not the parent.
type childTransport struct {
	gnet.Conn // nil: the core calls only the methods below on a child
	c         *Conn
	ch        *Child
	parent    *Conn
	car       Carrier
	in        []byte // the input being delivered, during Deliver only
	// credit is input taken from the transport that the carrier has not returned to the
	// peer yet; parked is input kept while the child could not read, returned once it
	// is read.
	credit, parked int
	// eof: the peer ended the stream while the child could not read; the child ends
	// once it has served what was kept.
	eof bool
	one [1][]byte // Write's payload as a vector, without allocating
}

func (t *childTransport) Peek(int) ([]byte, error) { return t.in, nil }

func (t *childTransport) Discard(n int) (int, error) {
	if n < 0 || n > len(t.in) {
		n = len(t.in)
	}
	t.in = t.in[n:]
	return n, nil
}

func (t *childTransport) InboundBuffered() int { return len(t.in) }

func (t *childTransport) Write(p []byte) (int, error) {
	t.one[0] = p
	t.send(t.one[:])
	t.one[0] = nil
	return len(p), nil
}

func (t *childTransport) Writev(bs [][]byte) (int, error) {
	t.send(bs)
	n := 0
	for _, b := range bs {
		n += len(b)
	}
	return n, nil
}

// send frames bs and writes the frames to the parent's transport in one call.
func (t *childTransport) send(bs [][]byte) {
	if t.parent.closed {
		return
	}
	if iov := t.car.Frame(bs); len(iov) > 0 {
		t.parent.writeSocket(iov)
	}
}

// OutboundBuffered is what the stream's windows hold back plus the parent socket's
// backlog: a child's send budget and backpressure see both, so a stream whose peer does
// not read pauses, and so does every stream of a connection whose peer does not read.
func (t *childTransport) OutboundBuffered() int {
	return t.car.Held() + t.parent.tr.OutboundBuffered()
}

func (t *childTransport) RemoteAddr() net.Addr { return t.parent.tr.RemoteAddr() }
func (t *childTransport) LocalAddr() net.Addr  { return t.parent.tr.LocalAddr() }

// PauseRead and ResumeRead have nothing to do: Child.Deliver sees the core's paused and
// holding flags and keeps the input without returning it to the peer's window.
func (t *childTransport) PauseRead()        {}
func (t *childTransport) ResumeRead() error { return nil }

// returnCredit hands the carrier the input the child has taken, after a serve, and ends
// a child whose peer ended the stream once nothing kept is left to serve.
func (t *childTransport) returnCredit() {
	if n := t.credit + t.parked; n > 0 {
		t.credit, t.parked = 0, 0
		t.car.Consumed(n)
	}
	if c := t.c; t.eof && !c.paused && !c.holding {
		c.closing = true
	}
}
