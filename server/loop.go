package server

import (
	"context"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// loop is the state one event loop shares among its connections. Only that loop's
// goroutine touches it, so nothing here needs a lock, and per-request scratch space (the
// parsed request, the response being built, the write batch) costs one copy per loop
// instead of one per connection.
type loop struct {
	srv   *Server
	el    gnet.EventLoop
	batch batch
	wheel wheel
	req   parser.Request
	hreq  Request
	resp  ResponseWriter
	tick  gnet.Runnable
	stats loopStats
	// wsAsm assembles the WebSocket messages that arrive as single frames, for every
	// connection of the loop (see WSConn.assembler); wsCurrent is the payload OnMessage is
	// being handed when it is a view of the input, which Reply may send without a copy.
	wsAsm     ws.Assembler
	wsCurrent []byte
	// conns registers the loop's open connections, for draining at shutdown.
	conns []*Conn
	// scratch holds a message being compressed.
	scratch []byte
	// upgradeHdr is scratch space for the extra header lines of a 101.
	upgradeHdr []byte
}

func newLoop(srv *Server, el gnet.EventLoop) *loop {
	l := &loop{srv: srv, el: el}
	l.tick = gnet.RunnableFunc(func(context.Context) error {
		l.wheel.advance(srv.clock.now(), l.expire)
		return nil
	})
	return l
}

// expire runs a connection's timeout on the loop.
func (l *loop) expire(c *Conn) {
	if c.closed {
		return
	}
	c.deadline = 0
	switch {
	case c.lingering():
		if c.lingerTick() {
			c.closeNow()
		}
		return
	case c.paused:
		if c.resumeTick() {
			c.closeNow()
		}
		return
	case c.proto != nil:
		c.proto.Timeout(c)
	default:
		c.timeoutHTTP1()
	}
	if l.flush(c) && c.endAfterSend() {
		c.closeNow()
	}
}

// flush writes the batch to c in one call and reports whether c should now be closed.
func (l *loop) flush(c *Conn) (closeNow bool) {
	b := &l.batch
	if !b.empty() {
		if c.closed {
			b.reset()
			return false
		}
		iov := b.vectors()
		if len(iov) == 1 {
			_, _ = c.gc.Write(iov[0])
		} else {
			_, _ = c.gc.Writev(iov)
		}
		b.reset()
	}
	return c.closing && !c.closed
}

// register and unregister keep the loop's connection registry; O(1) each.
func (l *loop) register(c *Conn) {
	c.index = int32(len(l.conns))
	l.conns = append(l.conns, c)
}

func (l *loop) unregister(c *Conn) {
	i, last := int(c.index), len(l.conns)-1
	if i < 0 || i > last || l.conns[i] != c {
		return
	}
	l.conns[i] = l.conns[last]
	l.conns[i].index = int32(i)
	l.conns[last] = nil
	l.conns = l.conns[:last]
	c.index = -1
}
