package bench

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
)

// clientLoop is one of the load client's event loops: an epoll instance, the
// connections registered on it (epoll_data is the index in conns) and a queue of
// tasks other goroutines hand it, woken through an eventfd. Only the loop's goroutine
// touches its connections.
type clientLoop struct {
	lc     *loadClient
	epfd   int
	wakefd int
	buf    []byte // the read buffer all its connections share
	conns  []*loadConn
	free   []int32      // slots of closed connections
	spins  int          // polls before epoll_wait sleeps (0 for paced runs: see newLoadClientSpins)
	quiet  *quietWaiter // with spins 0: the loop sleeps in Go's netpoller (quietwait.go)

	// A paced run's timer (timerfd, -1: none) and what the loop does when it fires.
	timerfd int
	onTimer func()

	mu      sync.Mutex
	tasks   []func()
	running []func()
	stopped atomic.Bool
}

// loadConn is a connection on a loop.
type loadConn struct {
	fd      int
	slot    int32
	loop    *clientLoop
	cc      *clientConn
	in      []byte // an incomplete frame carried over to the next read
	pending []byte // output the socket did not take yet
	closed  bool
}

// wakeSlot marks the eventfd's epoll events, timerSlot the timerfd's.
const (
	wakeSlot  = -1
	timerSlot = -2
)

func newClientLoop(lc *loadClient, spins int) (*clientLoop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("load client: epoll_create1: %w", err)
	}
	wfd, _, e := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if e != 0 {
		_ = syscall.Close(epfd)
		return nil, fmt.Errorf("load client: eventfd: %w", e)
	}
	l := &clientLoop{lc: lc, epfd: epfd, wakefd: int(wfd), buf: make([]byte, 64<<10), spins: spins, timerfd: -1}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeSlot}
	if err := rawEpollCtl(epfd, syscall.EPOLL_CTL_ADD, l.wakefd, &ev); err != nil {
		l.release()
		return nil, fmt.Errorf("load client: epoll_ctl: %w", err)
	}
	if spins == 0 {
		l.quiet = newQuietWaiter(epfd) // nil if the runtime cannot poll it: epollWait then
	}
	return l, nil
}

// exec runs f on the loop's goroutine, after the tasks queued before it.
func (l *clientLoop) exec(f func()) {
	l.mu.Lock()
	l.tasks = append(l.tasks, f)
	first := len(l.tasks) == 1
	l.mu.Unlock()
	if first {
		l.wake()
	}
}

var wakeOne = []byte{1, 0, 0, 0, 0, 0, 0, 0}

func (l *clientLoop) wake() { _, _ = rawWrite(l.wakefd, wakeOne) }

func (l *clientLoop) stop() {
	l.stopped.Store(true)
	l.wake()
}

// asyncWrite sends b (kept until written) on c from any goroutine.
func (c *loadConn) asyncWrite(b []byte) { c.loop.exec(func() { c.write(b) }) }

func (l *clientLoop) add(c *loadConn) {
	if n := len(l.free); n > 0 {
		c.slot, l.free = l.free[n-1], l.free[:n-1]
		l.conns[c.slot] = c
	} else {
		c.slot = int32(len(l.conns))
		l.conns = append(l.conns, c)
	}
	// Edge-triggered, writability included: it only raises an event when a full send
	// buffer drains, which is when pending output can go.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | epollET, Fd: c.slot}
	if err := rawEpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		c.close(fmt.Errorf("epoll_ctl: %w", err))
	}
}

func (l *clientLoop) run() error {
	events := make([]syscall.EpollEvent, 256)
	for !l.stopped.Load() {
		var (
			n   int
			err error
		)
		if l.quiet != nil {
			n, err = l.quiet.wait(l.epfd, events)
		} else {
			n, err = epollWait(l.epfd, events, l.spins, 100)
		}
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return fmt.Errorf("load client: epoll_wait: %w", err)
		}
		for i := 0; i < n; i++ {
			ev := &events[i]
			if ev.Fd == wakeSlot {
				l.runTasks()
				continue
			}
			if ev.Fd == timerSlot {
				l.timerFired()
				continue
			}
			c := l.conns[ev.Fd]
			if c == nil {
				continue // closed earlier in this batch
			}
			if ev.Events&syscall.EPOLLOUT != 0 && len(c.pending) > 0 {
				c.flush()
			}
			if ev.Events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 && !c.closed {
				c.read(ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0)
			}
		}
	}
	return nil
}

func (l *clientLoop) runTasks() {
	var sink [8]byte
	_, _ = rawRead(l.wakefd, sink[:])
	l.mu.Lock()
	l.running, l.tasks = l.tasks, l.running[:0]
	l.mu.Unlock()
	for i, f := range l.running {
		f()
		l.running[i] = nil
	}
}

// release closes the loop's connections and descriptors; the loop has stopped.
func (l *clientLoop) release() {
	for _, c := range l.conns {
		if c != nil {
			c.close(nil)
		}
	}
	if l.timerfd >= 0 {
		_ = syscall.Close(l.timerfd)
	}
	if l.quiet != nil {
		l.quiet.close()
	}
	_ = syscall.Close(l.wakefd)
	_ = syscall.Close(l.epfd)
}

var errServerClosed = errors.New("server closed the connection")

// read takes what the socket holds (edge-triggered: until a read leaves room in the
// buffer) and hands it to the frame parser. hup says the event reported the peer's
// close: it may have come with the last data, in the same edge, so then read goes on to
// the end of the stream.
func (c *loadConn) read(hup bool) {
	l := c.loop
	for {
		m, err := rawRead(c.fd, l.buf)
		switch {
		case err == syscall.EAGAIN:
			return
		case err != nil:
			c.close(fmt.Errorf("read: %w", err))
			return
		case m == 0:
			c.close(errServerClosed)
			return
		}
		data := l.buf[:m]
		if len(c.in) > 0 {
			c.in = append(c.in, data...)
			data = c.in
		}
		used, closeNow := l.lc.parse(c.cc, data)
		if rest := data[used:]; len(c.in) > 0 {
			c.in = c.in[:copy(c.in, rest)]
		} else if len(rest) > 0 {
			c.in = append(c.in[:0], rest...)
		}
		if out := c.cc.out; len(out) > 0 {
			c.write(out)
			c.cc.out = out[:0]
		}
		if closeNow {
			c.close(nil)
			return
		}
		if c.closed || (m < len(l.buf) && !hup) {
			return
		}
	}
}

// write sends b now if nothing is pending; what the socket does not take waits for
// its writability event. b is not kept.
func (c *loadConn) write(b []byte) {
	if c.closed {
		return
	}
	if len(c.pending) > 0 {
		c.pending = append(c.pending, b...)
		c.flush()
		return
	}
	n, err := rawWrite(c.fd, b)
	switch {
	case err == syscall.EAGAIN:
		n = 0
	case err != nil:
		c.close(fmt.Errorf("write: %w", err))
		return
	}
	if n < len(b) {
		c.pending = append(c.pending, b[n:]...)
	}
}

func (c *loadConn) flush() {
	for len(c.pending) > 0 {
		n, err := rawWrite(c.fd, c.pending)
		switch {
		case err == syscall.EAGAIN:
			return
		case err != nil:
			c.close(fmt.Errorf("write: %w", err))
			return
		}
		c.pending = c.pending[:copy(c.pending, c.pending[n:])]
	}
}

// close ends c; err (or an unexpected close) counts as an error unless the client is
// stopping.
func (c *loadConn) close(err error) {
	if c.closed {
		return
	}
	c.closed = true
	l := c.loop
	// The error is counted before the socket closes: a peer that sees the close knows
	// the error is in the count.
	if err != nil && !l.lc.closing.Load() {
		l.lc.fail(err)
	}
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(c.fd), 0, 0)
	l.conns[c.slot] = nil
	l.free = append(l.free, c.slot)
}
