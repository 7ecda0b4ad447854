// Switchyard patch (not in upstream gnet v2.10.0): stop accepting without stopping.
//
// A graceful shutdown closes the listening sockets first, so that new clients are
// refused (and a load balancer sends them elsewhere) while the connections already
// open are drained. Upstream gnet closes its listeners only when the engine stops.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2/pkg/queue"
)

// CloseListeners stops the engine from accepting: each loop that polls a listener
// removes it from its poller and closes it, on its own goroutine. Open connections
// are not touched. It returns once the requests are queued; done is closed once every
// loop has run its own (a loop that has stopped runs none): the listeners are closed
// then, and the kernel refuses new clients. Until then it may still complete their
// handshakes, which the closing resets.
func (e Engine) CloseListeners() (done <-chan struct{}, err error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	// Each loop takes the listeners off its own poller, on its own loop, so that none is
	// left with an event for a descriptor already closed; the listeners are closed once
	// every loop that polls them has done so. Closing first would not do: the listener
	// is a duplicate of the caller's descriptor, so closing it leaves the registrations
	// in place, firing for a descriptor number the next accept may reuse.
	closeOn := func(el *eventloop, last func() bool) error {
		wg.Add(1)
		err := el.poller.Trigger(queue.HighPriority, func(any) error {
			defer wg.Done()
			for fd := range el.listeners {
				_ = el.poller.Delete(fd)
			}
			if last() {
				for _, ln := range el.listeners {
					ln.close()
				}
			}
			return nil
		}, nil)
		if err != nil {
			wg.Done()
		}
		return err
	}
	last := func() bool { return true } // ReusePort: each loop polls listeners of its own
	if e.eng.sharedListener() {
		var left atomic.Int32
		left.Store(int32(e.eng.eventLoops.len()))
		last = func() bool { return left.Add(-1) == 0 }
	}
	e.eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
		err = errors.Join(err, closeOn(el, last))
		return true
	})
	closed := make(chan struct{})
	go func() {
		wg.Wait()
		close(closed)
	}()
	return closed, err
}
