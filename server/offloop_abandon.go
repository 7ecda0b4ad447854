package server

import (
	"sync"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// A worker-pool handler whose answer is no longer wanted (its connection closed, its
// client went away, its HTTP/2 stream was reset) hears it through its request's
// abandonHook: a NetHTTP handler's context is cancelled, as net/http cancels it then. The
// loop keeps the hooks of the handlers in flight by connection and stream, from the
// hand-out to the answer's return, so the close path costs a connection that has none a
// map lookup.

// abandonHook lets the loop tell a worker-pool handler that its answer is no longer
// wanted. A NetHTTP handler hangs its context's cancel on it; the loop's word and the
// hanging may come in either order.
type abandonHook struct {
	mu        sync.Mutex
	abandoned bool
	cancel    func()
	// resumed carries the loop's word to a handler waiting in Flush (stream.go);
	// inFlight: its part is on the way to the loop, which has not taken it yet.
	resumed  chan error
	inFlight bool
}

// set hangs cancel on the hook (nil takes it down); cancel runs at once if the answer is
// already abandoned. Safe from any goroutine.
func (a *abandonHook) set(cancel func()) {
	a.mu.Lock()
	if a.abandoned && cancel != nil {
		a.mu.Unlock()
		cancel()
		return
	}
	a.cancel = cancel
	a.mu.Unlock()
}

// abandon runs the cancel hung on the hook, now or when one is hung.
func (a *abandonHook) abandon() {
	a.mu.Lock()
	a.abandoned = true
	cancel, inFlight := a.cancel, a.inFlight
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if !inFlight { // a part on its way still owns the handler's buffers: its task answers (took)
		a.resume(ErrAbandoned)
	}
}

// offLoopEntry is a handler in flight for a connection's request on stream (0 over
// HTTP/1.1); backlog: it waits in Flush for the socket to take the connection's backlog
// (stream.go).
type offLoopEntry struct {
	stream  uint32
	hook    *abandonHook
	backlog bool
}

// trackOffLoop records that a worker-pool handler runs for c's request on stream until
// its answer is back on the loop (untrackOffLoop). Loop only.
func (l *Loop) trackOffLoop(c *Conn, stream uint32, hook *abandonHook) {
	if l.offLoop == nil {
		l.offLoop = make(map[*Conn][]offLoopEntry)
	}
	list := l.offLoop[c]
	if list == nil && len(l.offLoopFree) > 0 { // a list of a connection done with the pool
		list = l.offLoopFree[len(l.offLoopFree)-1]
		l.offLoopFree = l.offLoopFree[:len(l.offLoopFree)-1]
	}
	l.offLoop[c] = append(list, offLoopEntry{stream: stream, hook: hook})
}

func (l *Loop) untrackOffLoop(c *Conn, stream uint32) {
	list := l.offLoop[c]
	for i, e := range list {
		if e.stream == stream {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(l.offLoop, c)
		if list != nil {
			l.offLoopFree = append(l.offLoopFree, list) // kept: a list per request would be an allocation
		}
	} else {
		l.offLoop[c] = list
	}
}

// abandonOffLoop tells c's handlers in flight that their answers are no longer wanted:
// the one for stream, or all of them when all is set. Loop only.
func (l *Loop) abandonOffLoop(c *Conn, stream uint32, all bool) {
	for _, e := range l.offLoop[c] {
		if all || e.stream == stream {
			e.hook.abandon()
		}
	}
}

// AbandonOffLoop tells the worker-pool handler still running for the request on stream
// (HandleOffLoop) that its answer is no longer wanted, because the stream was reset: a
// NetHTTP handler's request context is cancelled, as net/http cancels it when a client
// resets an HTTP/2 stream. A native Handler runs to its end as before. Its answer still
// comes to Answer, for the protocol to drop. Loop only.
func (c *Conn) AbandonOffLoop(stream uint32) { c.loop.abandonOffLoop(c, stream, false) }

// OnPeerHangup is the fork's report that the client of a connection whose reading is
// paused has closed or half-closed it: a NetHTTP handler running for it (the connection
// is held meanwhile) sees its context cancelled, as net/http cancels it when the client
// goes away. The connection itself stays until its response is written or fails.
func (e *engine) OnPeerHangup(gc gnet.Conn) {
	if c, ok := gc.Context().(*Conn); ok && !c.closed {
		c.loop.abandonOffLoop(c, 0, true)
	}
}
