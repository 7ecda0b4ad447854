package server

import "github.com/switchyard-dev/switchyard/server/internal/gnet"

// BacklogWatcher is implemented by a Protocol that wants to know when the socket has
// taken some of the output its peer was behind on. A multiplexing protocol wakes the
// child connections that the parent's backlog paused (Child.Wake). Loop only.
type BacklogWatcher interface {
	BacklogEased(c *Conn)
}

// OnWritten is the fork's report that the socket took some of a connection's pending
// output (outputTaken).
func (e *engine) OnWritten(gc gnet.Conn) {
	if c, ok := gc.Context().(*Conn); ok {
		c.outputTaken()
	}
}

// outputTaken acts on the socket having taken some of c's pending output. A connection
// paused for its backlog resumes as soon as the backlog is down to half the send budget,
// and a lingering one shuts its write side as soon as its output has all gone, rather
// than at the wheel's next tick: a keep-alive client downloading responses larger than
// the budget would otherwise wait for the tick before each next request was read.
func (c *Conn) outputTaken() {
	if c.closed {
		return
	}
	switch {
	case c.paused && !c.closing:
		if c.tr.OutboundBuffered() <= c.srv.cfg.SendBudget/2 {
			c.loop.wheel.remove(c)
			if c.resumeTick() {
				c.closeNow()
				return
			}
		}
	case c.lingering() && !c.writeShut:
		if c.tr.OutboundBuffered() == 0 && c.shutWrite() {
			c.closeNow()
			return
		}
	}
	if len(c.loop.offLoop) > 0 && c.tr.OutboundBuffered() <= c.srv.cfg.SendBudget/2 {
		c.loop.backlogEased(c) // streaming handlers that wait for it (stream.go)
	}
	if w, ok := c.proto.(BacklogWatcher); ok && c.multiplexing && !c.closed {
		w.BacklogEased(c)
	}
}
