package server

import "sync"

// abandonHook lets the loop tell a worker-pool handler that its answer is no longer
// wanted (its HTTP/2 stream was reset while it ran). A NetHTTP handler hangs its
// context's cancel on it; the reset and the hanging may come in either order.
type abandonHook struct {
	mu        sync.Mutex
	abandoned bool
	cancel    func()
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
	cancel := a.cancel
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// offLoopKey names a request of a multiplexing protocol whose handler is on the pool.
type offLoopKey struct {
	c      *Conn
	stream uint32
}

// AbandonOffLoop tells the worker-pool handler still running for the request on stream
// (HandleOffLoop) that its answer is no longer wanted, because the stream was reset: a
// NetHTTP handler's request context is cancelled, as net/http cancels it when a client
// resets an HTTP/2 stream. A native Handler runs to its end as before. Its answer still
// comes to Answer, for the protocol to drop. Loop only.
func (c *Conn) AbandonOffLoop(stream uint32) {
	l := c.loop
	if len(l.offLoop) == 0 {
		return
	}
	if job := l.offLoop[offLoopKey{c, stream}]; job != nil {
		job.abandon.abandon()
	}
}

// trackOffLoop records that job runs the handler of c's request on stream, until it is
// back on the loop (untrackOffLoop). Loop only.
func (l *Loop) trackOffLoop(c *Conn, stream uint32, job *offLoopJob) {
	if l.offLoop == nil {
		l.offLoop = make(map[offLoopKey]*offLoopJob)
	}
	l.offLoop[offLoopKey{c, stream}] = job
}

func (l *Loop) untrackOffLoop(c *Conn, stream uint32) { delete(l.offLoop, offLoopKey{c, stream}) }
