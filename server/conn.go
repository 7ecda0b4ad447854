package server

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// Conn is one client connection. It belongs to one event loop; the methods that say so are
// safe from any goroutine, the others only from the loop (inside handlers and Protocol
// methods). An idle Conn holds no buffers: only this struct.
type Conn struct {
	gc    gnet.Conn
	loop  *loop
	srv   *Server
	proto Protocol // nil while the connection speaks HTTP/1.1: that costs no allocation
	h1    *h1State // an HTTP/1.1 request in progress; nil between requests

	deadline     int64 // unix nanoseconds; 0 when none is set
	wprev, wnext *Conn
	inWheel      bool

	closing bool // close once the batch is written
	closed  bool
	busy    bool  // a worker-pool handler owns the current request
	served  bool  // at least one request was answered
	kind    uint8 // the protocol spoken, for the connection gauges
	paused  bool  // HTTP/1.1 input waits until the client reads its responses
	wslot   uint8 // the wheel slot the connection is filed under
	// waitTicks counts the wheel ticks spent lingering (closing with output still queued)
	// or paused, to bound both.
	waitTicks uint16
	index     int32 // position in the loop's registry of connections

	pending atomic.Pointer[poolJob] // a worker-pool response waiting for the loop
}

// errCloseConn makes the serve loop close the connection after writing what it queued.
var errCloseConn = errors.New("switchyard: closing connection")

// Write queues p on the loop's batch; it is copied. Loop only.
func (c *Conn) Write(p []byte) { c.loop.batch.write(p) }

// WriteString queues s on the loop's batch. Loop only.
func (c *Conn) WriteString(s string) { c.loop.batch.writeString(s) }

// WriteRef queues p without copying it: p must stay unchanged until the current callback
// returns (a view into the input buffer qualifies). Loop only.
func (c *Conn) WriteRef(p []byte) { c.loop.batch.writeRef(p) }

// AppendBuffer returns the batch's open tail so that encoders can append to it in place;
// hand the result back with Commit. Loop only.
func (c *Conn) AppendBuffer() []byte { return c.loop.batch.grow() }

// Commit records what was appended to the slice AppendBuffer returned. Loop only.
func (c *Conn) Commit(b []byte) { c.loop.batch.commit(b) }

// Close closes the connection once what is queued has been written. Loop only.
func (c *Conn) Close() { c.closing = true }

// SetDeadline arranges for the protocol's Timeout to run once d has passed (with the
// wheel's 250 ms granularity). d <= 0 clears it. Loop only.
func (c *Conn) SetDeadline(d time.Duration) {
	w := &c.loop.wheel
	if d <= 0 {
		w.remove(c)
		c.deadline = 0
		return
	}
	w.set(c, c.srv.clock.now()+int64(d))
}

// RemoteAddr is the peer's address. Safe from any goroutine.
func (c *Conn) RemoteAddr() net.Addr { return c.gc.RemoteAddr() }

// Outbound returns how many bytes are queued in the kernel-side send path that the peer
// has not yet taken: the measure of a send budget. Loop only.
func (c *Conn) Outbound() int { return c.gc.OutboundBuffered() }

// AsyncWrite queues p for the connection from any goroutine; done, if not nil, runs on the
// loop once it has been written or failed. p must stay unchanged until then.
func (c *Conn) AsyncWrite(p []byte, done func(error)) error {
	var cb gnet.AsyncCallback
	if done != nil {
		cb = func(_ gnet.Conn, err error) error { done(err); return nil }
	}
	return c.gc.AsyncWrite(p, cb)
}

// AsyncWritev is AsyncWrite for several slices written in one call.
func (c *Conn) AsyncWritev(bs [][]byte, done func(error)) error {
	var cb gnet.AsyncCallback
	if done != nil {
		cb = func(_ gnet.Conn, err error) error { done(err); return nil }
	}
	return c.gc.AsyncWritev(bs, cb)
}

// Execute runs fn on the connection's loop, from any goroutine, unless the connection has
// closed by then. What fn writes is flushed when it returns.
func (c *Conn) Execute(fn func(c *Conn)) error {
	return c.gc.EventLoop().Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		if c.closed {
			return nil
		}
		fn(c)
		if c.loop.flush(c) && c.endAfterSend() {
			c.closeNow()
		}
		return nil
	}))
}

// CloseAsync closes the connection from any goroutine, after what is queued.
func (c *Conn) CloseAsync() error { return c.gc.Close() }

// serve runs the connection's current protocol over everything buffered, switching
// protocols in place as it goes, and returns how many bytes were consumed. The caller
// flushes the batch before discarding them: queued references may point into that input.
func (c *Conn) serve() int {
	if job := c.pending.Swap(nil); job != nil {
		c.finishPoolJob(job)
	}
	buf, _ := c.gc.Peek(-1)
	total := 0
	for !c.closing && !c.busy && total < len(buf) {
		if c.proto == nil && c.overSendBudget() {
			c.pause()
			break
		}
		var (
			n      int
			err    error
			before = c.proto
		)
		if c.proto != nil {
			n, err = c.proto.Serve(c, buf[total:])
		} else {
			n, err = c.serveHTTP1(buf[total:])
		}
		total += n
		if err != nil {
			c.closing = true
			break
		}
		if n == 0 && c.proto == before {
			break // the protocol needs more bytes
		}
	}
	return total
}

// setKind moves the connection between the protocol gauges.
func (c *Conn) setKind(k uint8) {
	c.loop.stats.open[c.kind].Add(-1)
	c.loop.stats.open[k].Add(1)
	c.kind = k
}

// process is one round of work on buffered input, as gnet's OnTraffic calls for: serve it,
// write the batch, then discard what was consumed (only then: the batch may reference it).
// It reports whether the connection should close now.
func (c *Conn) process() (closeNow bool) {
	consumed := c.serve()
	closeNow = c.loop.flush(c)
	if c.closed { // the write failed and gnet has closed the connection already
		return false
	}
	if consumed > 0 {
		_, _ = c.gc.Discard(consumed)
	}
	return closeNow && c.endAfterSend()
}

// endAfterSend decides how a connection that is done ends. gnet's close writes what the
// socket takes at once and drops the rest, which would cut a response or a close frame
// short; so while output is still queued the connection lingers instead: its input is
// discarded and the wheel looks again every tick, until the output has gone or
// LingerTimeout has passed. It reports whether the caller should close now.
func (c *Conn) endAfterSend() bool {
	if c.gc.OutboundBuffered() == 0 {
		return true
	}
	c.closing, c.paused, c.waitTicks = true, false, 1
	c.SetDeadline(wheelTick)
	return false
}

func (c *Conn) lingering() bool { return c.closing && c.waitTicks > 0 }

// lingerTick reports whether a lingering connection may close now.
func (c *Conn) lingerTick() bool {
	if c.gc.OutboundBuffered() == 0 || time.Duration(c.waitTicks)*wheelTick >= c.srv.cfg.LingerTimeout {
		return true
	}
	c.waitTicks++
	c.SetDeadline(wheelTick)
	return false
}

// overSendBudget reports whether the responses queued for an HTTP/1.1 client, which it has
// not read yet, have reached the send budget: then the server reads no further pipelined
// request until the client catches up, so a client that never reads cannot make it buffer
// without bound.
func (c *Conn) overSendBudget() bool {
	return c.gc.OutboundBuffered()+c.loop.batch.n >= c.srv.cfg.SendBudget
}

func (c *Conn) pause() {
	if !c.paused {
		c.paused, c.waitTicks = true, 0
	}
	c.SetDeadline(wheelTick)
}

// resumeTick runs a paused connection again once its client has read half the budget's
// worth, and gives up on one that stays stuck for IdleTimeout. It reports whether to close.
func (c *Conn) resumeTick() bool {
	if c.gc.OutboundBuffered() > c.srv.cfg.SendBudget/2 {
		c.waitTicks++
		if time.Duration(c.waitTicks)*wheelTick >= c.srv.cfg.IdleTimeout {
			return true // a client that reads nothing for so long is gone
		}
		c.SetDeadline(wheelTick)
		return false
	}
	c.paused, c.waitTicks = false, 0
	c.SetDeadline(c.srv.cfg.IdleTimeout)
	return c.process()
}

// closeNow closes the connection from its own loop, outside gnet's event callbacks (timer
// and Execute tasks). gnet's Conn.Close would queue another task, which a loop busy
// draining its task queue may not wake up for; the loop's own Close acts at once.
func (c *Conn) closeNow() { _ = c.gc.EventLoop().Close(c.gc) }
