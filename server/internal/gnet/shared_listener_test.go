//go:build linux

package gnet

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sharedHandler serves the shared-listener tests: the first connection's first read
// blocks its loop until a second connection has been opened; every read is echoed.
type sharedHandler struct {
	BuiltinEventEngine
	running    chan Engine
	blockFirst bool          // the first connection's first read blocks its loop
	busy       chan struct{} // closed when the first connection's loop is blocked
	second     chan struct{} // closed when the second connection is opened
	block      sync.Once

	mu    sync.Mutex
	loops []EventLoop // the loop of each opened connection, in order
}

func newSharedHandler(blockFirst bool) *sharedHandler {
	return &sharedHandler{running: make(chan Engine, 1), blockFirst: blockFirst, busy: make(chan struct{}), second: make(chan struct{})}
}

func (h *sharedHandler) OnRun(e Engine) { h.running <- e }

func (h *sharedHandler) OnOpen(c Conn) ([]byte, Action) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.SetContext(len(h.loops))
	h.loops = append(h.loops, c.EventLoop())
	if len(h.loops) == 2 {
		close(h.second)
	}
	return nil, None
}

func (h *sharedHandler) OnTraffic(c Conn) Action {
	if c.Context() == 0 && h.blockFirst {
		h.block.Do(func() {
			close(h.busy)
			select { // a loop that is the only one able to accept would wait here for good
			case <-h.second:
			case <-time.After(10 * time.Second):
			}
		})
	}
	b, _ := c.Next(-1)
	_, _ = c.Write(b)
	return None
}

func runShared(t *testing.T, h *sharedHandler) (Engine, string) {
	t.Helper()
	return startEngine(t, h, h.running, WithMulticore(true), WithNumEventLoop(2), WithSharedListener(true), WithIdleSpins(10))
}

// startEngine serves h on a new loopback listener until the test ends; running is
// where h's OnRun reports the engine.
func startEngine(t *testing.T, h EventHandler, running <-chan Engine, opts ...Option) (Engine, string) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- RunListener(h, ln, opts...) }()
	var eng Engine
	select {
	case eng = <-running:
	case err := <-done:
		t.Fatalf("engine did not start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = eng.Stop(ctx)
		<-done
		_ = ln.Close()
	})
	return eng, ln.Addr().String()
}

func echoes(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	for n := 0; n < len(msg); {
		m, err := c.Read(buf[n:])
		if err != nil {
			t.Fatalf("echo of %q: %v", msg, err)
		}
		n += m
	}
	if string(buf) != msg {
		t.Fatalf("echo: got %q, want %q", buf, msg)
	}
}

// With SharedListener there is no acceptor loop: every loop polls the listener, so a
// loop stuck in a handler leaves the accepting, and the serving, to the others.
func TestSharedListenerBusyLoopDoesNotHoldUpAccepts(t *testing.T) {
	h := newSharedHandler(true)
	_, addr := runShared(t, h)
	a, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	<-h.busy
	b, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	select {
	case <-h.second:
	case <-time.After(5 * time.Second):
		t.Fatal("a second connection was not accepted while the first one's loop was busy")
	}
	echoes(t, b, "served by the other loop")
	h.mu.Lock()
	same := h.loops[0] == h.loops[1]
	h.mu.Unlock()
	if same {
		t.Fatal("both connections are on one loop, which was busy")
	}
	one := make([]byte, 1)
	_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := a.Read(one); err != nil || one[0] != 'x' {
		t.Fatalf("the first connection's blocked read was not echoed: %q, %v", one, err)
	}
	echoes(t, a, "and the first loop is back")
}

// CloseListeners takes the shared listener off every loop's poller, and the loops go on
// serving the connections they hold.
func TestSharedListenerCloseListeners(t *testing.T) {
	h := newSharedHandler(false)
	eng, addr := runShared(t, h)
	var conns []net.Conn
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echoes(t, c, "before")
		conns = append(conns, c)
	}
	var fds []int // read before CloseListeners: the loops write them after
	for _, ln := range eng.eng.listeners {
		fds = append(fds, ln.fd)
	}
	done, err := eng.CloseListeners()
	if err != nil {
		t.Fatal(err)
	}
	// Every loop lets go of the listener on its own loop; the last one closes it, and
	// done says when.
	<-done
	for _, fd := range fds {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
			t.Fatalf("the shared listener is still open once CloseListeners is done (%v)", err)
		}
	}
	for _, c := range conns {
		echoes(t, c, "after")
	}
}

// EPOLLEXCLUSIVE wakes the first loop asleep on the listener, so connections opened one
// at a time on a quiet server would all land on one loop; the accepting loop hands them
// over once it holds more than sharedImbalance above the emptiest.
func TestSharedListenerSpreadsConnectionsOpenedOneByOne(t *testing.T) {
	h := newSharedHandler(false)
	_, addr := runShared(t, h)
	const n = 64
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echoes(t, c, "hello") // opened and registered before the next one comes
	}
	h.mu.Lock()
	per := map[EventLoop]int{}
	for _, l := range h.loops {
		per[l]++
	}
	h.mu.Unlock()
	if len(per) != 2 {
		t.Fatalf("%d connections on %d loop(s) of 2", n, len(per))
	}
	var counts []int
	for _, k := range per {
		counts = append(counts, k)
	}
	if d := counts[0] - counts[1]; d > sharedImbalance+1 || d < -(sharedImbalance+1) {
		t.Fatalf("connections per loop %v: more than %d apart", counts, sharedImbalance+1)
	}
}

// bootCounter counts OnBoot calls.
type bootCounter struct {
	BuiltinEventEngine
	boots int
}

func (h *bootCounter) OnBoot(Engine) Action { h.boots++; return None }

// This copy has no acceptor loop: without SharedListener or ReusePort the engine
// refuses to start, before OnBoot, with an error that says why.
func TestNoAcceptorLoopWithoutSharedListener(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	h := new(bootCounter)
	if err := RunListener(h, ln, WithMulticore(true), WithNumEventLoop(2)); err != errNoAcceptor {
		t.Fatalf("RunListener: got %v, want %v", err, errNoAcceptor)
	}
	if h.boots != 0 {
		t.Fatalf("OnBoot called %d times", h.boots)
	}
}
