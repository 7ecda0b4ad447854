// Switchyard patch (not in upstream gnet v2.10.0): Engine.Adopt enrolls an established
// connection synchronously, on the caller's goroutine, into the loop holding the fewest
// connections; upstream's Enroll does the same work on gnet's default goroutine pool and
// picks the loop with the engine's balancer.
//
// Why: switchyard adopts connections that a net/http server hijacked (server.Adopt), from
// that server's handler goroutines, many at once. Upstream's pool keeps an idle worker
// alive for 10 s after each enrollment, so a burst of 1,000 handoffs would leave up to
// 1,000 goroutines behind for that long (what the handoff exists to avoid), and its
// round-robin balancer is not safe to call from several goroutines (its own doc says
// so). The caller already runs on a goroutine that may block, so Adopt needs no pool at
// all, and the loop's connection count is an atomic.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"fmt"
	"net"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	errorx "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/queue"
	"github.com/panjf2000/gnet/v2/pkg/socket"
)

// Adopt moves c into the event loop with the fewest connections and returns once the
// loop has opened it (OnOpen has run there, with ctx as the Conn's context until OnOpen
// replaces it). The loop serves a duplicate of c's descriptor; c itself is closed, on
// success and on failure alike, so its owner holds nothing for it afterwards.
func (e Engine) Adopt(c net.Conn, ctx any) (Conn, error) {
	if err := e.Validate(); err != nil {
		_ = c.Close()
		return nil, err
	}
	lb := e.eng.eventLoops
	if lb.len() == 0 {
		_ = c.Close()
		return nil, errorx.ErrEmptyEngine
	}
	least := lb.index(0)
	for i := 1; i < lb.len(); i++ {
		if el := lb.index(i); el.countConn() < least.countConn() {
			least = el
		}
	}
	res := least.enrollNow(c, ctx)
	return res.Conn, res.Err
}

// enrollNow registers a duplicate of c's descriptor with el, closes c, and waits until
// el has opened the new connection (or the engine has stopped).
func (el *eventloop) enrollNow(c net.Conn, ctx any) RegisteredResult {
	defer c.Close() //nolint:errcheck
	if el.engine.isShutdown() {
		return RegisteredResult{Err: errorx.ErrEngineInShutdown}
	}
	addr := c.RemoteAddr()
	sc, ok := c.(syscall.Conn)
	if !ok {
		return RegisteredResult{Err: fmt.Errorf("failed to assert syscall.Conn from net.Conn: %s", addr.String())}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return RegisteredResult{Err: err}
	}

	var dupFD int
	err1 := rc.Control(func(fd uintptr) {
		dupFD, err = socket.Dup(int(fd))
	})
	if err != nil {
		return RegisteredResult{Err: err}
	}
	if err1 != nil {
		return RegisteredResult{Err: err1}
	}

	var (
		sockAddr unix.Sockaddr
		gc       *conn
	)
	switch c.(type) {
	case *net.UnixConn:
		sockAddr, _, _, err = socket.GetUnixSockAddr(c.RemoteAddr().Network(), c.RemoteAddr().String())
		if err != nil {
			_ = unix.Close(dupFD)
			return RegisteredResult{Err: err}
		}
		ua := c.LocalAddr().(*net.UnixAddr)
		ua.Name = c.RemoteAddr().String() + "." + strconv.Itoa(dupFD)
		gc = newStreamConn("unix", dupFD, el, sockAddr, c.LocalAddr(), c.RemoteAddr())
	case *net.TCPConn:
		sockAddr, _, _, _, err = socket.GetTCPSockAddr(c.RemoteAddr().Network(), c.RemoteAddr().String())
		if err != nil {
			_ = unix.Close(dupFD)
			return RegisteredResult{Err: err}
		}
		gc = newStreamConn("tcp", dupFD, el, sockAddr, c.LocalAddr(), c.RemoteAddr())
	case *net.UDPConn:
		sockAddr, _, _, _, err = socket.GetUDPSockAddr(c.RemoteAddr().Network(), c.RemoteAddr().String())
		if err != nil {
			_ = unix.Close(dupFD)
			return RegisteredResult{Err: err}
		}
		gc = newUDPConn(dupFD, el, c.LocalAddr(), sockAddr, true)
	default:
		_ = unix.Close(dupFD) // upstream leaked the duplicate here
		return RegisteredResult{Err: fmt.Errorf("unknown type of conn: %T", c)}
	}

	gc.SetContext(ctx)
	gc.SetSafeContext(ctx)

	connOpened := make(chan struct{})
	ccb := &connWithCallback{c: gc, cb: func() {
		close(connOpened)
	}}
	if err := el.poller.Trigger(queue.LowPriority, el.register, ccb); err != nil {
		_ = unix.Close(dupFD)
		return RegisteredResult{Err: err}
	}
	select {
	case <-connOpened:
	case <-el.engine.concurrency.ctx.Done():
		// The loop stopped before it ran the task (upstream waited forever); the
		// descriptor, if the task never ran, goes with the process's other leftovers.
		return RegisteredResult{Err: errorx.ErrEngineInShutdown}
	}
	return RegisteredResult{Conn: gc}
}
