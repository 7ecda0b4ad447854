// Switchyard patch (not in upstream gnet v2.10.0): stop accepting without stopping.
//
// A graceful shutdown closes the listening sockets first, so that new clients are
// refused (and a load balancer sends them elsewhere) while the connections already
// open are drained. Upstream gnet closes its listeners only when the engine stops.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"errors"

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
	var err error
	e.eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
		err = errors.Join(err, closeOn(el))
		return true
	})
	return err
}
