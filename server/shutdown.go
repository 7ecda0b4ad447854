package server

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// Shutdown stops the server gracefully: it stops accepting, lets HTTP/1.1 requests in
// flight finish with "Connection: close" and closes idle HTTP/1.1 connections, drains
// upgraded connections (see Drainer), and waits for them to go. When ctx ends first, the
// rest are closed. It returns once the server has stopped. Later calls wait for the same
// shutdown, and a later call's ctx that ends first ends the drain too (Close ends it at
// once), as with net/http.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop.Do(func() {
		drain, cut := context.WithCancel(ctx)
		s.cutDrain = cut
		go s.shutdown(drain)
	})
	select {
	case <-s.done:
	case <-ctx.Done():
		s.cutDrain()
		<-s.done
	}
	return s.stopErr
}

func (s *Server) shutdown(ctx context.Context) {
	defer close(s.done)
	defer s.cutDrain()
	s.mu.Lock()
	s.draining.Store(true)
	serving := s.serving
	s.mu.Unlock()
	if serving {
		// The loops may accept before Serve marks them running: wait for its start to
		// end, or they would serve on after Shutdown had returned.
		<-s.started
	}
	select {
	case <-s.running:
	default:
		// Serve never started the engine: only the listener, if any, is open.
		if s.ln != nil {
			_ = s.ln.Close()
		}
		return
	}
	// New clients are refused from here on, while the open connections drain: the drain
	// starts once every loop has let go of the listener and it is closed.
	closed, err := s.eng.CloseListeners()
	err = errors.Join(err, s.ln.Close())
	if closed != nil {
		select {
		case <-closed:
		case <-ctx.Done():
		}
	}
	if ctx.Err() == nil {
		for _, l := range s.loopList() {
			_ = l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
				l.drain()
				return nil
			}))
		}
		tick := time.NewTicker(10 * time.Millisecond)
		for s.open.Load() > 0 && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
		tick.Stop()
	}
	// Stop only asks the engine to stop (its context is already done, so it does not
	// poll for the end); RunListener returns once every loop has.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.eng.Stop(cancelled)
	if stopErr := <-s.engErr; stopErr != nil && !errors.Is(stopErr, net.ErrClosed) {
		err = errors.Join(err, stopErr)
	}
	s.pool.Release()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	s.stopErr = err
}

// drain starts the graceful end of every connection on the loop.
func (l *Loop) drain() {
	// Iterate over a copy: closing connections unregisters them.
	conns := append([]*Conn(nil), l.conns...)
	for _, c := range conns {
		if c.closed {
			continue
		}
		if d, ok := c.proto.(Drainer); ok {
			d.Drain(c)
		} else {
			c.closing = true
		}
		c.Flush()
	}
}
