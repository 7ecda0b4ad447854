package server

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// Loop is one event loop: a goroutine that owns a set of connections and everything they
// share. Only that goroutine touches it, so nothing here needs a lock, and per-request
// scratch space (the parsed request, the response being built, the output batch) costs
// one copy per loop instead of one per connection. It holds no protocol's state:
// protocols keep theirs in a PerLoop.
type Loop struct {
	id    int // index among the server's loops, for PerLoop
	srv   *Server
	el    gnet.EventLoop
	batch batch
	wheel wheel
	req   parser.Request
	hreq  Request
	resp  ResponseWriter
	tick  gnet.Runnable
	timer *time.Timer  // queues tick on the loop when the wheel's next due tick begins
	ticks atomic.Int64 // how many times tick ran, for tests
	// queued counts the tasks queued by Run, raised once each is in the queue (RunMarked).
	queued atomic.Uint64
	stats  loopStats
	// conns registers the loop's open connections, for draining at shutdown.
	conns []*Conn
	// upgradeHdr is scratch space for the extra header lines of a 101.
	upgradeHdr []byte
	// tlsScratch is room for encrypting a TLS connection's output (tls_transport.go).
	tlsScratch tlsScratch
	// corked is the multiplexed connection whose turn is being served, and corkBuf what
	// it and its children wrote meanwhile (cork.go).
	corked  *Conn
	corkBuf []byte
	// offLoop holds the worker-pool handlers in flight, by connection and stream, so that
	// a connection's close or a stream's reset reaches them (offloop_abandon.go).
	offLoop map[*Conn][]offLoopEntry
	// offLoopFree are empty lists of offLoop's, for reuse.
	offLoopFree [][]offLoopEntry
}

func newLoop(srv *Server, el gnet.EventLoop, id int) *Loop {
	l := &Loop{id: id, srv: srv, el: el}
	l.stats.open = make([]atomicInt64, len(srv.kinds))
	l.stats.childOpen = make([]atomicInt64, len(srv.kinds))
	l.tick = gnet.RunnableFunc(func(context.Context) error {
		l.ticks.Add(1)
		l.wheel.advance(srv.clock.now(), l.expire)
		return nil
	})
	if el != nil { // a loop of the tests' memory transport is advanced by hand
		l.timer = time.AfterFunc(time.Hour, func() { _ = el.Execute(context.Background(), l.tick) })
		l.timer.Stop()
		l.wheel.arm = func(tick int64) {
			l.timer.Reset(max(time.Duration(tick*int64(wheelTick)-srv.clock.now()), 0))
		}
	}
	return l
}

// Task is work to run on a loop (see Loop.Run), in gnet's Runnable shape: a task made
// once can be queued again and again (a broadcast's delivery, a worker-pool job's return).
type Task interface {
	Run(ctx context.Context) error
}

// Run queues t to run on the loop, from any goroutine; tasks run in the order they were
// queued. It fails once the loop has stopped. A task that writes to connections ends
// each one's turn with Conn.Flush, but for the last connection it wrote to: the loop
// flushes that one once it has run the tasks queued meanwhile, so that tasks writing one
// after another to the same connection (a burst of messages from a publisher) leave in
// one write.
func (l *Loop) Run(t Task) error {
	if err := l.el.Execute(context.Background(), t); err != nil {
		return err
	}
	l.queued.Add(1)
	return nil
}

// QueueMark stands for a task's place in its loop's queue (RunMarked).
type QueueMark uint64

// RunMarked is Run for a task that takes more work while it waits (a broadcast's
// delivery takes the broadcasts made meanwhile). Such work must not overtake a task
// queued after the one it joins: join only while StillLast(m).
func (l *Loop) RunMarked(t Task) (QueueMark, error) {
	before := l.queued.Load()
	err := l.Run(t)
	return QueueMark(before + 1), err
}

// StillLast reports whether Run has queued no task on the loop since the one RunMarked
// returned m for. It may say false when another task was queued at the same time as that
// one, never true when one was queued after it. Any goroutine.
func (l *Loop) StillLast(m QueueMark) bool { return l.queued.Load() == uint64(m) }

// OnTasksDone ends the turn of the connection the loop's last tasks left output for
// (Loop.Run).
func (e *engine) OnTasksDone(el gnet.EventLoop) {
	if c := e.srv.loopFor(el).batch.owner; c != nil {
		c.Flush()
	}
}

// Loop is the event loop the connection belongs to.
func (c *Conn) Loop() *Loop { return c.loop }

// expire runs a connection's timeout on the loop.
func (l *Loop) expire(c *Conn) {
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
	}
	c.proto.Timeout(c)
	c.Flush()
}

// out returns the batch for writing to c. The batch belongs to one connection at a time:
// a write to another one (a handler replying on a second connection) first sends what the
// batch holds for the previous one, so bytes never reach the wrong peer.
func (l *Loop) out(c *Conn) *batch {
	b := &l.batch
	if b.owner != c {
		if b.owner != nil {
			l.flush()
		}
		b.owner = c
	}
	return b
}

// flush writes the batch to its connection in one call.
func (l *Loop) flush() {
	b := &l.batch
	c := b.owner
	if c == nil {
		return
	}
	if !b.empty() && !c.closed {
		c.writeSocket(b.vectors())
	}
	b.reset()
}

// register and unregister keep the loop's connection registry; O(1) each.
func (l *Loop) register(c *Conn) {
	c.index = int32(len(l.conns))
	l.conns = append(l.conns, c)
}

func (l *Loop) unregister(c *Conn) {
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
