//go:build linux

package gnet

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// closeInTrafficHandler fails a write inside OnTraffic on the first read that fills
// the loop's buffer, which closes the connection there and then (eventloop.close),
// and at once gives the freed descriptor number to a socket of the test's own, as
// another loop's accept could: a read of the descriptor after the close reads that
// socket.
type closeInTrafficHandler struct {
	BuiltinEventEngine
	running chan Engine
	bufCap  int
	fired   chan closeInTrafficResult

	mu     sync.Mutex
	done   bool
	closed map[Conn]bool // connections OnClose has seen
	stale  [][]byte      // what OnTraffic was handed for a connection already closed
}

type closeInTrafficResult struct {
	loop     EventLoop
	fd       int   // the closed connection's descriptor number, now the test's socket
	peer     int   // the other end of the test's socket
	writeErr error // the write that failed inside OnTraffic
	closed   bool  // OnClose had run when the write returned
	err      error // the test's setup failed
}

func (h *closeInTrafficHandler) OnRun(e Engine) { h.running <- e }

func (h *closeInTrafficHandler) OnClose(c Conn, _ error) Action {
	h.mu.Lock()
	h.closed[c] = true
	h.mu.Unlock()
	return None
}

func (h *closeInTrafficHandler) OnTraffic(c Conn) Action {
	cc := c.(*conn)
	h.mu.Lock()
	if h.closed[c] {
		h.stale = append(h.stale, bytes.Clone(cc.buffer))
		h.mu.Unlock()
		return None
	}
	done := h.done
	h.mu.Unlock()
	if done || len(cc.buffer) < h.bufCap {
		return None // not the read this test is about: keep reading
	}
	h.mu.Lock()
	h.done = true
	h.mu.Unlock()

	r := closeInTrafficResult{loop: c.EventLoop(), fd: c.Fd(), peer: -1}
	defer func() { h.fired <- r }()
	// The write fails (EPIPE), and a failed write closes the connection at once.
	if r.err = unix.Shutdown(r.fd, unix.SHUT_WR); r.err != nil {
		return None
	}
	_, r.writeErr = c.Write([]byte("reply"))
	h.mu.Lock()
	r.closed = h.closed[c]
	h.mu.Unlock()
	if !r.closed {
		return None
	}
	// The descriptor number is free now: take it, as an accept on any thread could.
	if _, err := unix.FcntlInt(uintptr(r.fd), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
		r.err = errors.New("the closed descriptor's number was taken before the test could take it")
		return None
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		r.err = err
		return None
	}
	switch r.fd {
	case pair[0]: // the lowest free number, as the kernel hands them out
		r.peer = pair[1]
	case pair[1]:
		r.peer = pair[0]
	default:
		if err := unix.Dup3(pair[0], r.fd, unix.O_CLOEXEC); err != nil {
			r.err = err
			_ = unix.Close(pair[0])
			_ = unix.Close(pair[1])
			return None
		}
		_ = unix.Close(pair[0])
		r.peer = pair[1]
	}
	if _, err := unix.Write(r.peer, []byte("another connection's bytes")); err != nil {
		r.err = err
	}
	return None
}

// Issue 14, item 9. A write that fails inside OnTraffic closes the connection, and its
// descriptor number is free for the next socket the process opens. When the read that
// called OnTraffic had filled the loop's buffer, gnet's read went back for more (in ET
// mode, or at EOF) and read that descriptor again: by then it could be another loop's
// newly accepted connection, whose bytes were stolen and handed to the closed
// connection's OnTraffic. The read must stop once the connection is closed.
func TestNoReadOfADescriptorClosedInsideOnTraffic(t *testing.T) {
	const bufCap = 64 << 10
	h := &closeInTrafficHandler{running: make(chan Engine, 1), bufCap: bufCap,
		fired: make(chan closeInTrafficResult, 1), closed: make(map[Conn]bool)}
	_, addr := startEngine(t, h, h.running, WithNumEventLoop(1), WithSharedListener(true),
		WithEdgeTriggeredIO(true), WithReadBufferCap(bufCap), WithEdgeTriggeredIOChunk(1<<20))

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { _, _ = c.Write(make([]byte, 4<<20)) }() // fails once the server closes

	var r closeInTrafficResult
	select {
	case r = <-h.fired:
	case <-time.After(10 * time.Second):
		t.Fatal("no read filled the loop's buffer")
	}
	if r.peer >= 0 {
		defer unix.Close(r.fd)
		defer unix.Close(r.peer)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.writeErr == nil || !r.closed {
		t.Fatalf("the write inside OnTraffic returned %v and closed the connection: %v; want a failed write that closes it", r.writeErr, r.closed)
	}
	// Wait for the loop to be done with the read event: a task runs after it.
	ran := make(chan struct{})
	if err := r.loop.Execute(context.Background(), RunnableFunc(func(context.Context) error {
		close(ran)
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the loop did not run a task")
	}

	h.mu.Lock()
	stale := h.stale
	h.mu.Unlock()
	for _, b := range stale {
		t.Errorf("OnTraffic of the closed connection was handed %q, read from its descriptor's new owner", b)
	}
	buf := make([]byte, 64)
	n, err := unix.Read(r.fd, buf)
	if err != nil || string(buf[:n]) != "another connection's bytes" {
		t.Errorf("the socket now at the closed connection's descriptor holds %q (%v): its bytes were read by the closed connection's loop", buf[:max(n, 0)], err)
	}
}
