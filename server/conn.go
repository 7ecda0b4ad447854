package server

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// Conn is one client connection as the core keeps it: its transport, its deadline in the
// loop's wheel, its output budget and the Protocol currently speaking on it. It knows no
// protocol; HTTP/1.1, WebSocket and HTTP/2 are Protocols alike.
//
// Threading: a Conn belongs to one event loop. Methods that are safe from any goroutine
// say so by their name: they end in Async, or they hand work to the loop (Execute).
// Every other method is loop-only: call it from a Protocol method, a handler that runs on
// the loop, or an Execute callback. An idle Conn holds no buffers: only this struct.
type Conn struct {
	// tr is the transport: the socket, as gnet's connection, or a TLS session over it
	// (tlsTransport). The core reads, writes and closes only through its methods, so a
	// transport that offers the same methods carries a Conn without any protocol
	// noticing (docs/architecture.md §4).
	tr    gnet.Conn
	loop  *Loop
	srv   *Server
	proto Protocol
	// acc accumulates input that a protocol left unconsumed (a unit larger than a read),
	// from acc.B[accOff:]; nil otherwise. Each byte is copied into it once, so a frame
	// arriving over many reads costs linear time, and the transport's own buffer stays
	// empty.
	acc    *bytebufferpool.ByteBuffer
	accOff int

	deadline     int64 // clock nanoseconds; 0 when none is set
	heldDeadline int64 // the protocol's deadline, kept while the connection is paused
	wprev, wnext *Conn
	inWheel      bool
	wslot        uint8 // the wheel slot the connection is filed under

	closing bool // close once the output is written
	closed  bool
	paused  bool  // input waits until the peer reads what it was sent
	holding bool  // input waits until the protocol is ready (Hold, Resume)
	yielded bool  // the protocol ended its turn early (Yield)
	kind    uint8 // index of the protocol spoken, for the connection gauges
	// writeShut: the output has all gone and the write side is shut (FIN); the input is
	// dropped until the peer closes too (shutWrite).
	writeShut bool
	// multiplexing: child connections ride on its streams; its turns are corked (cork.go).
	multiplexing bool
	// waitTicks counts the wheel ticks spent lingering (closing with output still queued)
	// or paused, to bound both.
	waitTicks uint16
	index     int32 // position in the loop's registry of connections
}

// ErrClose, returned by Protocol.Serve, closes the connection once what was queued has
// been written.
var ErrClose = errors.New("switchyard: closing connection")

// Write queues p for the peer; it is copied. Loop only.
func (c *Conn) Write(p []byte) { c.loop.out(c).write(p) }

// WriteString queues s for the peer. Loop only.
func (c *Conn) WriteString(s string) { c.loop.out(c).writeString(s) }

// WriteRef queues p without copying it: p must stay unchanged until the current callback
// returns (a view into the input qualifies). Loop only.
func (c *Conn) WriteRef(p []byte) { c.loop.out(c).writeRef(p) }

// AppendBuffer returns the output's open tail so that encoders can append to it in place;
// hand the result back with Commit before anything else is written. Loop only.
func (c *Conn) AppendBuffer() []byte { return c.loop.out(c).grow() }

// Commit records what was appended to the slice AppendBuffer returned. Loop only.
func (c *Conn) Commit(b []byte) { c.loop.batch.commit(b) }

// Close closes the connection once what is queued has been written. Loop only.
func (c *Conn) Close() { c.closing = true }

// Closing reports whether the connection is closing or closed. Loop only.
func (c *Conn) Closing() bool { return c.closing || c.closed }

// SetDeadline arranges for the protocol's Timeout to run once d has passed (with the
// wheel's 250 ms granularity). d <= 0 clears it. Loop only.
func (c *Conn) SetDeadline(d time.Duration) { c.deadlineIn(d) }

// deadlineIn is SetDeadline, and returns the clock's reading it counted from (0 when it
// cleared the deadline), which the request metrics reuse.
func (c *Conn) deadlineIn(d time.Duration) (now int64) {
	w := &c.loop.wheel
	if d <= 0 {
		w.remove(c)
		c.deadline = 0
		return 0
	}
	now = c.srv.clock.now()
	w.set(c, now+int64(d))
	return now
}

// Now is the timer wheel's clock: nanoseconds from an arbitrary origin, advanced by the
// monotonic clock (one vDSO call, no system call). Safe from any goroutine.
func (c *Conn) Now() int64 { return c.srv.clock.now() }

// RemoteAddr is the peer's address: with Config.ProxyProtocol, the client's that the
// PROXY header named (the balancer's for a LOCAL or UNKNOWN one). Safe from any
// goroutine, and still the peer's after the connection has closed: the transport reads
// only what was fixed before the connection was served.
func (c *Conn) RemoteAddr() net.Addr { return c.tr.RemoteAddr() }

// LocalAddr is the server's address the peer connected to: with Config.ProxyProtocol, the
// one the client connected to at the balancer, as the PROXY header named it for TCP over
// IPv4 or IPv6 (the socket's own for a LOCAL or UNKNOWN header, or one naming Unix
// sockets). Fixed when the connection opened, as RemoteAddr is, and safe from any
// goroutine.
func (c *Conn) LocalAddr() net.Addr { return c.tr.LocalAddr() }

// Protocol is the protocol speaking on the connection now. Loop only.
func (c *Conn) Protocol() Protocol { return c.proto }

// Server is the server the connection belongs to.
func (c *Conn) Server() *Server { return c.srv }

// Unsent is the output queued for the peer that it has not taken yet: what this turn
// queued plus what the socket has not accepted. The send budget is measured on it. Loop
// only.
func (c *Conn) Unsent() int {
	n := c.tr.OutboundBuffered()
	if c.loop.batch.owner == c {
		n += c.loop.batch.n
	}
	return n
}

// Saturated reports whether the connection's unsent output has reached the server's send
// budget (Config.SendBudget). The core then reads nothing more from the connection until
// the peer has taken half of it, whatever the protocol; a decode loop stops at the next
// unit when it sees this, so that one read cannot queue replies without bound. Loop only.
func (c *Conn) Saturated() bool { return c.Unsent() >= c.srv.cfg.SendBudget }

// WriteAsync queues p for the connection from any goroutine, as a loop task in order with
// Execute and CloseAsync; done, if not nil, runs on the loop once p has joined the
// connection's output (nil) or the connection had closed (net.ErrClosed). p must stay
// unchanged until then. When WriteAsync itself fails (the loop has stopped), done is not
// called. Writes that wait for a busy loop leave together, in one write (WriteTask).
func (c *Conn) WriteAsync(p []byte, done func(error)) error {
	w := asyncWritePool.Get().(*asyncWrite)
	w.c, w.p, w.done = c, p, done
	if err := c.loop.Run(w); err != nil {
		*w = asyncWrite{}
		asyncWritePool.Put(w)
		return err
	}
	return nil
}

// asyncWrite is a WriteAsync on its way to the loop and the task that writes it; pooled,
// so that WriteAsync allocates only the loop queue's node.
type asyncWrite struct {
	c    *Conn
	p    []byte
	done func(error)
}

var asyncWritePool = sync.Pool{New: func() any { return new(asyncWrite) }}

func (w *asyncWrite) Run(context.Context) error {
	c, p, done := w.c, w.p, w.done
	*w = asyncWrite{}
	asyncWritePool.Put(w)
	err := net.ErrClosed
	if !c.closed {
		c.WriteTask(p)
		err = nil
	}
	if done != nil {
		done(err)
	}
	return nil
}

// taskFlushAt is how much output loop tasks gather for a connection before it is written
// without waiting for the end of the loop's batch of tasks (WriteTask); writes from this
// size up go out on their own, without a copy.
const taskFlushAt = 64 << 10

// WriteTask writes p from a loop task (Loop.Run) that other tasks may follow with more
// for the same connection, as a publisher's messages do: a small p is copied and left for
// the flush the loop makes once it has run the tasks queued meanwhile, so that a burst
// leaves in one write instead of a system call each; a large one is written at once,
// without a copy. p may be reused when WriteTask returns. Loop only.
func (c *Conn) WriteTask(p []byte) {
	if len(p) >= taskFlushAt {
		c.WriteRef(p)
		c.Flush()
		return
	}
	if c.Write(p); c.Unsent() >= taskFlushAt {
		c.Flush()
	}
}

// Execute runs fn on the connection's loop, from any goroutine, unless the connection has
// closed by then. What fn writes is flushed when it returns.
func (c *Conn) Execute(fn func(c *Conn)) error {
	return c.loop.Run(gnet.RunnableFunc(func(context.Context) error {
		if c.closed {
			return nil
		}
		fn(c)
		c.Flush()
		return nil
	}))
}

// CloseAsync closes the connection from any goroutine, after what is queued.
func (c *Conn) CloseAsync() error {
	return c.Execute(func(c *Conn) { c.closing = true })
}

// Flush ends a turn of work on c outside the core's own callbacks (a loop task such as a
// broadcast's delivery): it writes what was queued and closes the connection if it is
// done. The core flushes after Serve, Timeout, Start and Execute by itself. Loop only.
func (c *Conn) Flush() {
	if c.endTurn() {
		c.closeNow()
	}
}

// Hold stops reading the connection until Resume: the protocol cannot take input now (its
// handler runs off the loop, say), and what the peer sends meanwhile waits in the kernel,
// whose TCP window holds the peer back, instead of in the server's memory. Loop only.
func (c *Conn) Hold() {
	c.holding = true
	c.tr.PauseRead()
}

// Resume ends a Hold: it serves the input that waited, ends the turn, and reads the
// socket again. Call it from a loop task once the protocol can go on. Loop only.
func (c *Conn) Resume() {
	c.holding = false
	if c.closed || c.paused {
		return
	}
	if c.process() {
		c.closeNow()
		return
	}
	c.readAgain()
}

// Yield ends the connection's turn early, input left unserved: the core serves the rest
// after the loop's other work, so that one connection's costly input (a compressed
// message that inflates large) cannot hold up every other connection of its loop. Call
// it from Serve before returning. Loop only.
func (c *Conn) Yield() { c.yielded = true }

// serveLater is the task that serves a yielded connection's input again.
func (c *Conn) serveLater() {
	_ = c.loop.Run(gnet.RunnableFunc(func(context.Context) error {
		if !c.closed && !c.holding && !c.paused {
			if c.process() {
				c.closeNow()
			}
		}
		return nil
	}))
}

// readAgain reads the socket again after a Hold or a pause, unless another reason to wait
// remains.
func (c *Conn) readAgain() {
	if !c.closed && !c.holding && !c.paused && !c.lingering() {
		_ = c.tr.ResumeRead()
	}
}

// Switch hands the connection to p from the next byte on; p's Start runs at once with r
// (nil when the protocol began without a request, e.g. HTTP/2 with prior knowledge).
// name is the protocol's name in the connection gauges. Loop only: protocols call it from
// Serve, and the bytes after the ones Serve reports consumed go to p in the same turn.
func (c *Conn) Switch(name string, p Protocol, r *Request) {
	c.SetDeadline(0)
	c.setKind(name)
	c.proto = p
	p.Start(c, r)
	if c.srv.draining.Load() {
		// Shutdown's drain may have passed this connection while it spoke HTTP/1.1: the
		// new protocol ends gracefully too (1001, GOAWAY).
		if d, ok := p.(Drainer); ok {
			d.Drain(c)
		} else {
			c.closing = true
		}
	}
}

// backlogged reports whether the connection's unsent output is over the send budget once
// this turn's output has been handed to the socket. The turn's own output counts only
// until the socket has taken it: a turn that queued a budget's worth (one large response
// or message) would otherwise pause reading until the wheel's next tick, although the
// socket took all of it. A failed write closes the connection (c.closed).
func (c *Conn) backlogged() bool {
	if !c.Saturated() {
		return false
	}
	if b := &c.loop.batch; b.owner == c && b.n > 0 {
		c.loop.flush()
		return c.closed || c.Saturated()
	}
	return true
}

// serve runs the connection's current protocol over buf, switching protocols in place as
// it goes, and returns how many bytes were consumed, and whether a task will serve the
// rest (Yield). The caller flushes the output before discarding them: queued references
// may point into that input.
func (c *Conn) serve(buf []byte) (total int, later bool) {
	for !c.closing && !c.yielded && total < len(buf) && !c.backlogged() {
		before := c.proto
		n, err := c.proto.Serve(c, buf[total:])
		total += n
		if err != nil {
			c.closing = true
			break
		}
		if n == 0 && c.proto == before && !c.Saturated() {
			break // the protocol needs more bytes, or waits (a handler off the loop)
		}
		// A protocol that stopped at a unit for the budget is looked at again once the
		// turn's output has gone to the socket (backlogged).
	}
	if total < len(buf) && !c.closing && !c.closed && c.Saturated() {
		c.pause() // the socket has not taken what the peer was sent
	}
	if c.yielded {
		c.yielded = false
		c.loop.stats.yields.Add(1)
		if later = total < len(buf) && !c.closing; later {
			c.serveLater()
		}
	}
	return total, later
}

// setKind moves the connection between the protocol gauges.
func (c *Conn) setKind(name string) {
	k := c.srv.kindIndex(name)
	gauges := c.loop.stats.open
	if c.IsChild() {
		gauges = c.loop.stats.childOpen
	}
	gauges[c.kind].Add(-1)
	gauges[k].Add(1)
	c.kind = k
}

// process is one round of work on buffered input, as gnet's OnTraffic calls for: serve it,
// write the output, then discard what was consumed (only then: the output may reference
// it). It reports whether the connection should close now.
func (c *Conn) process() (closeNow bool) {
	corked := c.loop.cork(c)
	in := c.input()
	consumed, later := c.serve(in)
	c.loop.flush()
	if corked {
		c.loop.uncork()
	}
	if c.closed { // the write failed and gnet has closed the connection already
		return false
	}
	c.keep(in, consumed)
	if t, ok := c.tr.(*childTransport); ok {
		t.returnCredit()
	}
	// A TLS peer's close_notify ends the input as a FIN does in cleartext, once what came
	// before it is served: a connection that waits to serve its accumulator (paused,
	// holding, yielded) comes back here when it has (resumeTick, Resume, serveLater).
	if t, ok := c.tr.(*tlsTransport); ok && t.inputEnded() && !c.paused && !c.holding && !later {
		c.closing = true
	}
	if c.acc != nil && len(c.acc.B)-c.accOff > c.srv.cfg.InputBudget {
		c.CountError("input_budget")
		c.LogRefusal(0, "unconsumed input over Config.InputBudget")
		return true
	}
	return c.ending()
}

// input is what the protocol has to serve: the transport's bytes, behind what is left in
// the accumulator.
func (c *Conn) input() []byte {
	in, _ := c.tr.Peek(-1)
	if c.acc == nil {
		return in
	}
	if c.accOff > 0 && len(in) > 0 {
		n := copy(c.acc.B, c.acc.B[c.accOff:])
		c.acc.B, c.accOff = c.acc.B[:n], 0
	}
	c.acc.B = append(c.acc.B, in...)
	_, _ = c.tr.Discard(len(in))
	return c.acc.B[c.accOff:]
}

// keep drops the consumed input and moves what is left into the accumulator.
func (c *Conn) keep(in []byte, consumed int) {
	rest := in[consumed:]
	if c.acc != nil {
		c.accOff += consumed
		if len(rest) == 0 {
			c.releaseInput()
		}
		return
	}
	if len(rest) == 0 {
		_, _ = c.tr.Discard(consumed)
		return
	}
	c.acc = bytebufferpool.Get()
	c.acc.B = append(c.acc.B[:0], rest...)
	c.accOff = 0
	_, _ = c.tr.Discard(len(in))
}

// buffered is the input received and not yet consumed.
func (c *Conn) buffered() int {
	n := c.tr.InboundBuffered()
	if c.acc != nil {
		n += len(c.acc.B) - c.accOff
	}
	return n
}

func (c *Conn) releaseInput() {
	if c.acc != nil {
		bytebufferpool.Put(c.acc)
		c.acc, c.accOff = nil, 0
	}
}

// endTurn writes the turn's output and reports whether the connection should close now.
func (c *Conn) endTurn() bool {
	c.loop.flush()
	return c.ending()
}

// ending decides how a connection that is done ends. gnet's close writes what the socket
// takes at once and drops the rest, which would cut a response or a close frame short; so
// while output is still queued the connection lingers instead: its input is discarded and
// the wheel looks again every tick, until the output has gone or LingerTimeout has passed.
// It reports whether the caller should close now.
func (c *Conn) ending() bool {
	if !c.closing || c.closed {
		return false
	}
	if c.tr.OutboundBuffered() == 0 {
		return c.shutWrite()
	}
	if c.waitTicks == 0 || c.paused {
		c.paused, c.waitTicks = false, 1
		c.SetDeadline(wheelTick)
	}
	return false
}

func (c *Conn) lingering() bool { return c.closing && c.waitTicks > 0 && !c.paused }

// shutWriteWait bounds how long a connection whose write side is shut waits for its peer
// to close (nginx's lingering_timeout is 5 s).
const shutWriteWait = 2 * time.Second

// shutWrite ends a connection whose output has all gone as nginx's lingering close does:
// TLS close_notify, then FIN (the write side shut), while input is read and dropped until
// the peer closes too, for at most shutWriteWait. Closing at once with input the server
// has not read (a ping sent behind a close frame, a pipelined request after "Connection:
// close") makes the kernel answer with RST, and a RST discards whatever of the server's
// last output the peer has not read yet. It reports whether to close now: a child has no
// socket, and a failed shutdown or output TLS still queued leaves nothing to wait for.
func (c *Conn) shutWrite() bool {
	if c.writeShut || c.IsChild() {
		return true
	}
	c.endTLS()
	if c.closed {
		// close_notify's write failed and gnet closed the socket then and there: its
		// descriptor is free, and another loop's accept may already have it, so it must
		// not be shut (that half-closed a stranger's new connection, about one TLS
		// handshake in 3,000 under the handshake bench).
		return false
	}
	if c.tr.OutboundBuffered() != 0 {
		return true // close_notify did not fit: the peer learns of the end by the close
	}
	fd := c.tr.Fd()
	if fd < 0 || unix.Shutdown(fd, unix.SHUT_WR) != nil {
		return true
	}
	c.writeShut, c.paused = true, false
	c.waitTicks = 1 // lingering: input is dropped (OnTraffic)
	c.SetDeadline(shutWriteWait)
	return false
}

// lingerTick reports whether a lingering connection may close now.
func (c *Conn) lingerTick() bool {
	switch {
	case c.writeShut: // the peer had its time to close its side
		return true
	case time.Duration(c.waitTicks)*wheelTick >= c.srv.cfg.LingerTimeout:
		return true
	case c.tr.OutboundBuffered() == 0:
		return c.shutWrite()
	}
	c.waitTicks++
	c.SetDeadline(wheelTick)
	return false
}

// pause stops serving input until the peer has read what it was sent. The protocol's
// deadline is held meanwhile: the engine resumes it when the socket has taken enough
// (OnWritten), and the wheel's ticks bound how long it waits.
func (c *Conn) pause() {
	if !c.paused {
		c.paused, c.waitTicks, c.heldDeadline = true, 0, c.deadline
		c.loop.stats.paused.Add(1)
		c.tr.PauseRead()
	}
	c.SetDeadline(wheelTick)
}

// resumeTick runs a paused connection again once its peer has read half the budget's
// worth, and gives up on one that stays stuck for IdleTimeout. It reports whether to close.
func (c *Conn) resumeTick() bool {
	if c.tr.OutboundBuffered() > c.srv.cfg.SendBudget/2 {
		c.waitTicks++
		if time.Duration(c.waitTicks)*wheelTick >= c.srv.cfg.IdleTimeout {
			return true // a peer that reads nothing for so long is gone
		}
		c.SetDeadline(wheelTick)
		return false
	}
	c.paused, c.waitTicks = false, 0
	if c.heldDeadline != 0 {
		c.loop.wheel.set(c, c.heldDeadline) // already due: it fires at the next tick
		c.heldDeadline = 0
	}
	if c.process() {
		return true
	}
	c.readAgain()
	return false
}

// closeNow closes the connection from its own loop, outside gnet's event callbacks (timer
// and Execute tasks). gnet's Conn.Close would queue another task, which a loop busy
// draining its task queue may not wake up for; the loop's own Close acts at once.
func (c *Conn) closeNow() {
	if c.IsChild() {
		c.closeChild(nil, false) // a child has no socket: its stream ends instead
		return
	}
	_ = c.loop.el.Close(c.socket())
}
