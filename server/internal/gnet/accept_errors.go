// Switchyard patch (not in upstream gnet v2.10.0): accept errors that are the
// process's or the network's, not the listener's, no longer shut the engine down.
//
// Upstream returns ErrAcceptSocket for every accept error but EAGAIN, EINTR,
// ECONNRESET and ECONNABORTED, and the engine then stops with every connection it
// holds. A server that runs out of file descriptors must refuse the newcomer, not
// drop the thousands it already serves. With a level-triggered listener, an
// unaccepted connection would also wake the loop again at once, so on EMFILE or
// ENFILE the pending connection is accepted with a descriptor held in reserve and
// closed at once (the libev/nginx technique): the client learns immediately and the
// loop does not spin.
//
// Any code in the process that opens a file can take the reserve's descriptor in the
// instant it is spent (seen in tests: the logger loading the time zone on its first
// line). Then nothing can be refused at once, and a level-triggered listener would
// keep the loops spinning on EMFILE: instead the listeners come off every poller, and
// the next connection to close gives its descriptor to the reserve and puts them back.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	errorx "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/socket"

	"github.com/switchyard-dev/switchyard/server/internal/gnet/internal/netpoll"
)

// acceptVerdict says what an accept loop does after an error.
type acceptVerdict int

const (
	acceptRetry acceptVerdict = iota // the next pending connection can be tried at once
	acceptWait                       // nothing more to do until the listener is readable again
	acceptFatal                      // the listener itself is broken: stop the engine
)

// classifyAcceptError sorts accept(2) errors. Linux passes pending network errors of
// the new socket through accept, and accept(2) asks callers to treat them like
// EAGAIN (ENETDOWN, EPROTO, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
// EOPNOTSUPP, ENETUNREACH); EPERM is a firewall refusing the connection. Only
// errors that mean the listening socket is unusable are fatal.
func classifyAcceptError(err error) acceptVerdict {
	if isNoNetwork(err) {
		return acceptRetry
	}
	switch err {
	case unix.EAGAIN:
		return acceptWait
	case unix.EINTR, unix.ECONNRESET, unix.ECONNABORTED, unix.EPROTO, unix.EPERM,
		unix.ENETDOWN, unix.ENOPROTOOPT, unix.EHOSTDOWN, unix.EHOSTUNREACH,
		unix.EOPNOTSUPP, unix.ENETUNREACH:
		return acceptRetry
	case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
		return acceptWait
	default:
		return acceptFatal
	}
}

// fdReserve is one descriptor kept open so that a connection can still be accepted,
// and closed, when the process has no descriptor left.
type fdReserve struct {
	// mu is held for writing while the reserve is spent and reopened, and for reading
	// by every accept: when several loops accept from one listener (SharedListener,
	// ReusePort), another loop's accept would otherwise take the descriptor the reserve
	// just freed, and the reserve would be lost for good.
	mu      sync.RWMutex
	fd      int
	refused atomic.Int64 // connections refused since the last log line
	paused  atomic.Bool  // the reserve is lost: listeners are off every poller
	logged  atomic.Int64 // unix nanoseconds of the last log line
}

func newFDReserve() *fdReserve { return &fdReserve{fd: openSpareFD()} }

// acceptGated is el.acceptPeer under the reserve's read lock.
func (el *eventloop) acceptGated(fd int) (int, peer, error) {
	r := el.engine.reserve
	r.mu.RLock()
	nfd, p, err := el.acceptPeer(fd)
	r.mu.RUnlock()
	return nfd, p, err
}

// openSpareFD opens the descriptor held in reserve; -1 if even that fails.
func openSpareFD() int {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

func (r *fdReserve) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fd >= 0 {
		_ = unix.Close(r.fd)
		r.fd = -1
	}
}

// onAcceptError handles accept error err on listener fd and returns what the loop's
// accept callback returns: nil keeps the loop running, ErrAcceptSocket stops the
// engine (a broken listener only). A loop accepts one connection per readiness event;
// the listener is level-triggered, so the next pending one, after a retryable error
// too, comes with the next event.
func (el *eventloop) onAcceptError(fd int, err error) error {
	switch classifyAcceptError(err) {
	case acceptRetry:
		return nil
	case acceptWait:
		if err != unix.EAGAIN { // EAGAIN: the accept queue is drained
			el.shed(fd, err)
		}
		return nil
	default:
		el.getLogger().Errorf("Accept() failed due to error: %v", err)
		return errorx.ErrAcceptSocket
	}
}

// shed refuses the connection pending on listener fd lfd when the process is out of
// descriptors (err is EMFILE or ENFILE); for memory shortages (ENOBUFS, ENOMEM) it
// only logs, and the next readiness event retries.
func (el *eventloop) shed(lfd int, err error) {
	if shedHook != nil {
		shedHook()
	}
	r := el.engine.reserve
	if err == unix.EMFILE || err == unix.ENFILE {
		r.mu.Lock()
		if r.fd < 0 { // lost earlier (something else took the descriptor): retry
			r.fd = openSpareFD()
		}
		if r.fd >= 0 {
			_ = unix.Close(r.fd)
			if nfd, _, aerr := socket.Accept(lfd); aerr == nil {
				_ = unix.Close(nfd)
				r.refused.Add(1)
			}
			r.fd = openSpareFD()
		}
		if r.fd < 0 && !r.paused.Load() {
			el.engine.pollListeners(false)
			r.paused.Store(true)
			el.getLogger().Warnf("accept failed (%v) and the descriptor held in reserve was taken: accepting paused until a connection closes", err)
		}
		r.mu.Unlock()
	}
	// One line a second at most: a flood of refusals must not become a flood of logs.
	now := time.Now().UnixNano()
	if last := r.logged.Load(); now-last >= int64(time.Second) && r.logged.CompareAndSwap(last, now) {
		el.getLogger().Warnf("accept failed (%v): refusing new connections, %d refused in the last second; open connections are unaffected",
			err, r.refused.Swap(0))
	}
}

// shedHook, when set (by tests, before the engine runs), is called at every shed.
var shedHook func()

// descriptorFreed is called after a loop closed a connection's descriptor: if
// accepting is paused for want of a reserve, the reserve takes a descriptor again and
// the listeners go back on the pollers.
func (eng *engine) descriptorFreed() {
	r := eng.reserve
	if !r.paused.Load() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.paused.Load() {
		return
	}
	if r.fd < 0 {
		r.fd = openSpareFD()
	}
	if r.fd >= 0 {
		eng.pollListeners(true)
		r.paused.Store(false)
	}
}

// pollListeners puts every loop's listeners on its poller (on) or takes them off. It
// may run on any goroutine: epoll_ctl and kevent are safe beside a poller's wait.
func (eng *engine) pollListeners(on bool) {
	shared := eng.sharedListener()
	eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
		for _, ln := range el.listeners {
			var err error
			switch {
			case !on:
				err = el.poller.Delete(ln.fd)
			case shared:
				err = el.poller.AddReadExclusive(&netpoll.PollAttachment{FD: ln.fd, Callback: el.accept})
			default:
				err = el.poller.AddRead(ln.packPollAttachment(el.accept), false)
			}
			if err != nil {
				el.getLogger().Errorf("listener fd=%d on event-loop(%d), polled=%t: %v", ln.fd, el.idx, on, err)
			}
		}
		return true
	})
}
