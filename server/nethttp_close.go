package server

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// closeWatch cancels the contexts of net/http handlers (NetHTTP) whose connection closes
// while they run. It lives on the Server, not on Conn, so that connections that never
// serve a net/http handler pay nothing for it: the core's close path reads one atomic
// counter, and takes the lock only while such a handler is in flight somewhere.
type closeWatch struct {
	active atomic.Int32
	mu     sync.Mutex
	m      map[*Conn][]*watchedCtx
}

// watchedCtx is one handler's context and its cancel.
type watchedCtx struct {
	cancel context.CancelFunc
}

// watch arranges for cancel to run when c closes, or at once if c has already closed.
// Safe from any goroutine; unwatch undoes it.
func (w *closeWatch) watch(c *Conn, wc *watchedCtx) {
	w.mu.Lock()
	if w.m == nil {
		w.m = make(map[*Conn][]*watchedCtx)
	}
	w.m[c] = append(w.m[c], wc)
	w.active.Add(1)
	w.mu.Unlock()
	// The connection may have closed before it was watched: only its loop knows, so ask
	// there. A loop that has stopped has closed it too.
	err := c.loop.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		if c.closed {
			w.fire(c)
		}
		return nil
	}))
	if err != nil {
		wc.cancel()
	}
}

// unwatch forgets wc once its handler has returned.
func (w *closeWatch) unwatch(c *Conn, wc *watchedCtx) {
	w.mu.Lock()
	list := w.m[c]
	for i, x := range list {
		if x == wc {
			list = append(list[:i], list[i+1:]...)
			w.active.Add(-1)
			break
		}
	}
	if len(list) == 0 {
		delete(w.m, c)
	} else {
		w.m[c] = list
	}
	w.mu.Unlock()
}

// fire cancels every context watching c. The core calls it when c closes, on its loop.
func (w *closeWatch) fire(c *Conn) {
	w.mu.Lock()
	for _, wc := range w.m[c] {
		wc.cancel() // unwatch removes it; a cancel twice is harmless
	}
	w.mu.Unlock()
}

// connClosed is the core's hook, on the loop, as c closes.
func (s *Server) connClosed(c *Conn) {
	if s.netHTTPWatch.active.Load() > 0 {
		s.netHTTPWatch.fire(c)
	}
}

// OnPeerHangup is the fork's report that the client of a connection whose reading is
// paused has closed or half-closed it: a NetHTTP handler running for it (the connection
// is held meanwhile) sees its context cancelled, as net/http cancels it when the client
// goes away. The connection itself stays until its response is written or fails.
func (e *engine) OnPeerHangup(gc gnet.Conn) {
	if c, ok := gc.Context().(*Conn); ok && !c.closed {
		e.srv.connClosed(c)
	}
}
