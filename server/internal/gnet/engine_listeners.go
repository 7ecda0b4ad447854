// Switchyard patch (not in upstream gnet v2.10.0): stop accepting without stopping.
//
// A graceful shutdown closes the listening sockets first, so that new clients are
// refused (and a load balancer sends them elsewhere) while the connections already
// open are drained. Upstream gnet closes its listeners only when the engine stops.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"errors"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2/pkg/queue"
)

// CloseListeners stops the engine from accepting: each loop that polls a listener
// removes it from its poller and closes it, on its own goroutine. Open connections
// are not touched. It returns once the requests are queued, not once they have run.
func (e Engine) CloseListeners() error {
	if err := e.Validate(); err != nil {
		return err
	}
	closeOn := func(el *eventloop) error {
		return el.poller.Trigger(queue.HighPriority, func(any) error {
			for fd, ln := range el.listeners {
				_ = el.poller.Delete(fd)
				ln.close()
			}
			return nil
		}, nil)
	}
	if e.eng.ingress != nil { // one acceptor loop polls every listener
		return closeOn(e.eng.ingress)
	}
	if !e.eng.opts.ReusePort { // SharedListener: every loop polls the same listeners
		return e.closeSharedListeners()
	}
	var err error
	e.eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
		err = errors.Join(err, closeOn(el))
		return true
	})
	return err
}

// closeSharedListeners takes the shared listeners off every loop's poller, each on its
// own loop (so no loop is left with an event for a descriptor already closed), and the
// last loop to do so closes them. Closing first would not do: the listener is a
// duplicate of the caller's descriptor, so closing it leaves the other registrations
// in place, firing for a descriptor number the next accept may reuse.
func (e Engine) closeSharedListeners() error {
	var left atomic.Int32
	left.Store(int32(e.eng.eventLoops.len()))
	var err error
	e.eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
		err = errors.Join(err, el.poller.Trigger(queue.HighPriority, func(any) error {
			for fd := range el.listeners {
				_ = el.poller.Delete(fd)
			}
			if left.Add(-1) == 0 {
				for _, ln := range el.listeners {
					ln.close()
				}
			}
			return nil
		}, nil))
		return true
	})
	return err
}
