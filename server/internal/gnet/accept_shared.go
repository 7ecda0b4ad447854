// Switchyard patch (not in upstream gnet v2.10.0): with SharedListener every loop
// accepts from the one listener, and keeps what it accepts unless it holds clearly more
// than another loop.
//
// EPOLLEXCLUSIVE wakes the first loop registered that is asleep, so on a quiet server
// every connection would go to loop 0 (the "one nginx worker takes all the load"
// effect): harmless for short requests, but idle WebSockets opened one by one would all
// pile up on one loop and share its core when they turn busy. Handing a connection over
// costs a task queue push and a wakeup of the other loop; it is paid only while the
// loops are out of balance.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"github.com/panjf2000/gnet/v2/pkg/queue"
	"golang.org/x/sys/unix"
)

// sharedListener reports whether every loop polls the same listeners (SharedListener;
// ReusePort, which gives each loop listeners of its own, takes precedence).
func (eng *engine) sharedListener() bool { return eng.opts.SharedListener && !eng.opts.ReusePort }

// sharedImbalance is how many connections more than the emptiest loop a loop may hold
// and still keep a connection it accepted.
const sharedImbalance = 8

// sharedTarget picks the loop that serves a connection el accepted: el itself unless
// another loop holds more than sharedImbalance fewer.
func (el *eventloop) sharedTarget() *eventloop {
	lb := el.engine.eventLoops
	least, leastN := el, el.countConn()
	mine := leastN
	for i := 0; i < lb.len(); i++ {
		if o := lb.index(i); o != el {
			if n := o.countConn(); n < leastN {
				least, leastN = o, n
			}
		}
	}
	if mine-leastN > sharedImbalance {
		return least
	}
	return el
}

// serveAccepted registers a connection el accepted from ln with the loop that serves it.
func (el *eventloop) serveAccepted(ln *listener, nfd int, p peer) error {
	target := el
	if el.engine.sharedListener() {
		target = el.sharedTarget()
	}
	c := target.newAcceptedConn(ln, nfd, p)
	if target == el {
		return el.register0(c)
	}
	target.handOver(c)
	return nil
}

// handOver queues c, accepted on another goroutine, for registration on el.
func (el *eventloop) handOver(c *conn) {
	if err := el.poller.Trigger(queue.HighPriority, el.register, c); err != nil {
		el.getLogger().Errorf("failed to enqueue the accepted socket fd=%d to poller: %v", c.fd, err)
		_ = unix.Close(c.fd)
		c.release()
	}
}
