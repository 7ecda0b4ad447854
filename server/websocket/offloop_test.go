package websocket

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// gate is a callback blocker the test controls: a callback calls block, the test waits
// for entered, then opens the gate. Opening twice is harmless: the test's cleanup opens
// it too (registered after the server's, so it runs before the shutdown), and a failing
// test never leaves a worker blocked.
type gate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *gate) block() {
	g.entered <- struct{}{}
	<-g.release
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// waitEntered waits for a callback to block on the gate.
func (g *gate) waitEntered(t testing.TB) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the callback never ran")
	}
}

// opened reports whether the gate was opened.
func (g *gate) opened() bool {
	select {
	case <-g.release:
		return true
	default:
		return false
	}
}

// expectText reads the next frame and checks it is the text s.
func expectText(t *testing.T, br *bufio.Reader, s string) {
	t.Helper()
	op, p := readFrame(t, br)
	if op != ws.OpText || string(p) != s {
		t.Fatalf("got op %v %q, want text %q", op, p, s)
	}
}

// A callback that blocks on the worker pool holds up its own connection only: another
// connection of the same loop (Loops: 1) is upgraded and echoed, and an unrelated HTTP
// request answered, while the first callback is still blocked. Run on the loop, the
// blocked callback would stall the loop, and the second connection's handshake or echo
// would never come.
func TestOffLoopBlockingCallbackDoesNotDelayOtherConnections(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inOpen bool // block in OnOpen, else in OnMessage
	}{
		{name: "OnMessage blocks", inOpen: false},
		{name: "OnOpen blocks", inOpen: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first atomic.Bool
			g := newGate()
			h := Handler{
				UseWorkerPool: true,
				OnOpen: func(c *Conn) {
					if tc.inOpen && first.CompareAndSwap(false, true) {
						g.block()
					}
				},
				OnMessage: func(c *Conn, m Message) {
					if string(m.Payload) == "block" {
						g.block()
					}
					_ = c.Write(m.Op, m.Payload)
				},
			}
			srv, _, _ := runServer(t, server.Config{Loops: 1}, func(s *server.Server) {
				s.Route("/ws", server.Route{Upgraders: []server.Upgrader{New(h)}})
				s.Route("/plain", server.Route{HTTP: func(w *server.ResponseWriter, _ *server.Request) {
					w.WriteString("plain")
				}})
			})
			t.Cleanup(g.open)
			a, abr := upgrade(t, srv, "", nil)
			if !tc.inOpen {
				servertest.Write(t, a, string(text("block")))
			}
			g.waitEntered(t)

			_, bbr := upgrade(t, srv, "", text("hello"))
			expectText(t, bbr, "hello")
			plain := servertest.Dial(t, srv.Addr())
			servertest.Write(t, plain, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp, body := servertest.ReadResponse(t, bufio.NewReader(plain), "GET"); resp.StatusCode != 200 || string(body) != "plain" {
				t.Fatalf("plain request: %d %q", resp.StatusCode, body)
			}
			if g.opened() {
				t.Fatal("the gate opened before the other connection's echo")
			}

			g.open()
			if tc.inOpen {
				servertest.Write(t, a, string(text("after open")))
				expectText(t, abr, "after open")
			} else {
				expectText(t, abr, "block")
			}
		})
	}
}

// connOrder is what the order test keeps per connection (Value, set in OnOpen).
type connOrder struct {
	running  atomic.Int32
	next     int
	opened   bool
	messages int
}

// Each connection's callbacks run one at a time and in order, with random small sleeps
// in OnMessage and many connections sharing the pool: 1000 pipelined messages per
// connection arrive at OnMessage in the order sent, never two at once, after OnOpen,
// and their echoes come back in that order.
func TestOffLoopPreservesPerConnectionOrder(t *testing.T) {
	const conns, messages = 4, 1000
	var failures atomic.Int32
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	closed := make(chan int, conns)
	h := Handler{
		UseWorkerPool: true,
		OnOpen: func(c *Conn) {
			c.SetValue(&connOrder{opened: true})
		},
		OnMessage: func(c *Conn, m Message) {
			st, ok := ValueOf[*connOrder](c)
			if !ok || !st.opened {
				fail("OnMessage before OnOpen")
				return
			}
			if n := st.running.Add(1); n != 1 {
				fail("%d callbacks of one connection at once", n)
			}
			defer st.running.Add(-1)
			if got, _ := strconv.Atoi(string(m.Payload)); got != st.next {
				fail("message %q, want %d", m.Payload, st.next)
			}
			st.next++
			st.messages++
			if rand.IntN(4) == 0 {
				time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
			}
			_ = c.Write(m.Op, m.Payload)
		},
		OnClose: func(c *Conn, _ StatusCode, _ string) {
			st, _ := ValueOf[*connOrder](c)
			if st.running.Load() != 0 {
				fail("OnClose while OnMessage runs")
			}
			closed <- st.messages
		},
	}
	srv := serveWS(t, server.Config{Loops: 2}, h)
	var wg sync.WaitGroup
	for range conns {
		conn, br := upgrade(t, srv, "", nil)
		wg.Add(2)
		go func() {
			defer wg.Done()
			var out []byte
			for i := range messages {
				out = append(out, text(strconv.Itoa(i))...)
			}
			if _, err := conn.Write(out); err != nil {
				fail("writing: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			for i := range messages {
				f, err := readServerFrame(br)
				if err != nil {
					fail("reading echo %d: %v", i, err)
					return
				}
				if string(f.payload) != strconv.Itoa(i) {
					fail("echo %q, want %d", f.payload, i)
					return
				}
			}
			_, _ = conn.Write(closeFrame(ws.StatusNormalClosure, ""))
		}()
	}
	wg.Wait()
	for range conns {
		select {
		case n := <-closed:
			if n != messages {
				t.Errorf("OnClose after %d messages, want %d", n, messages)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("OnClose never ran")
		}
	}
}

// While a connection's callback is blocked its input is paused, not buffered: a client
// flooding 64 MiB of messages cannot get them all sent, the server's heap does not grow
// with them, and once the callback returns every message is delivered, in full, on the
// same connection. Buffered without bound, the flood would go through, grow the heap,
// or end the connection at the core's input budget.
func TestOffLoopPausesInputWhileBusy(t *testing.T) {
	const size, count = 64 << 10, 1024 // 64 MiB
	var delivered, intact atomic.Int64
	payload := binaryOf(size)
	g := newGate()
	h := Handler{
		UseWorkerPool: true,
		OnMessage: func(c *Conn, m Message) {
			switch {
			case string(m.Payload) == "block":
				g.block()
			case string(m.Payload) == "done":
				_ = c.Write(OpText, strconv.AppendInt(nil, delivered.Load(), 10))
			default:
				delivered.Add(1)
				if bytes.Equal(m.Payload, payload) {
					intact.Add(1)
				}
			}
		},
	}
	srv := serveWS(t, server.Config{Loops: 1}, h)
	t.Cleanup(g.open)
	conn, br := upgrade(t, srv, "", nil)
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	servertest.Write(t, conn, string(text("block")))
	g.waitEntered(t)

	heapBefore := heapInUse()
	flood := msg(ws.OpBinary, payload) // the server unmasks its own copy
	var written atomic.Int64
	done := make(chan error, 1)
	go func() {
		for range count {
			n, err := conn.Write(flood)
			written.Add(int64(n))
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	// Wait until the flood stalls (no progress over several looks), or ends.
	stalled := false
	for last, same := int64(-1), 0; !stalled; {
		select {
		case err := <-done:
			t.Fatalf("the whole flood (%d MiB) was taken while the callback was blocked (err %v)", written.Load()>>20, err)
		case <-time.After(50 * time.Millisecond):
		}
		if n := written.Load(); n == last {
			same++
			stalled = same >= 6
		} else {
			last, same = n, 0
		}
	}
	growth := heapInUse() - heapBefore
	t.Logf("flood stalled after %d MiB taken by the kernel and server; heap grew %d KiB", written.Load()>>20, growth>>10)
	if growth > 8<<20 {
		t.Errorf("the server's heap grew by %d MiB while the callback was blocked: input is buffered, not paused", growth>>20)
	}
	if delivered.Load() != 0 {
		t.Errorf("%d messages delivered while the connection's callback was blocked", delivered.Load())
	}

	g.open()
	if err := <-done; err != nil {
		t.Fatalf("the flood failed once the callback returned: %v", err)
	}
	servertest.Write(t, conn, string(text("done")))
	expectText(t, br, strconv.Itoa(count))
	if intact.Load() != count {
		t.Errorf("%d of %d messages arrived intact", intact.Load(), count)
	}
}

func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// OnClose runs once, after the OnMessage that was blocked when the connection closed,
// however it closed. Control frames are answered on the loop meanwhile: the peer's close
// gets its answer while OnMessage is still blocked.
func TestOffLoopOnCloseOnceAfterBlockedCallback(t *testing.T) {
	for _, tc := range []struct {
		name string
		// also is sent right behind the message that blocks, in the same write.
		also []byte
		// end closes the connection while the callback is blocked.
		end  func(t *testing.T, conn net.Conn, br *bufio.Reader, w *Conn, shutdown func())
		code StatusCode // OnClose's
		// serverCloses: the server's side of the connection ends while the callback is
		// still blocked (else only once it has returned, its input being paused).
		serverCloses bool
		selfClose    bool // OnMessage calls Close before it blocks
	}{
		{name: "Close from the callback on the pool", code: StatusNormalClosure, selfClose: true,
			end: func(t *testing.T, conn net.Conn, br *bufio.Reader, _ *Conn, _ func()) {
				f, err := readServerFrame(br)
				if err != nil || f.op != ws.OpClose || len(f.payload) < 2 || binary.BigEndian.Uint16(f.payload) != uint16(StatusNormalClosure) {
					t.Fatalf("want the callback's 1000 close while it is blocked, got %v %x %v", f.op, f.payload, err)
				}
				servertest.Write(t, conn, string(closeFrame(ws.StatusNormalClosure, "")))
			}},
		{name: "peer's close frame behind the message", code: StatusNormalClosure, serverCloses: true,
			also: closeFrame(ws.StatusNormalClosure, "bye"),
			end: func(t *testing.T, conn net.Conn, br *bufio.Reader, _ *Conn, _ func()) {
				// The connection has closed on the server's side already: the close
				// frame, read with the message, is a control frame, answered on the loop.
				if f, err := readServerFrame(br); err != nil || f.op != ws.OpClose {
					t.Fatalf("want the close answer while OnMessage is blocked, got %v %v", f.op, err)
				}
			}},
		{name: "peer drops the connection", code: StatusAbnormalClosure,
			end: func(t *testing.T, conn net.Conn, _ *bufio.Reader, _ *Conn, _ func()) {
				_ = conn.Close()
			}},
		{name: "CloseAsync from another goroutine", code: StatusNormalClosure,
			end: func(t *testing.T, conn net.Conn, br *bufio.Reader, w *Conn, _ func()) {
				if err := w.CloseAsync(StatusNormalClosure, "done"); err != nil {
					t.Fatal(err)
				}
				if f, err := readServerFrame(br); err != nil || f.op != ws.OpClose {
					t.Fatalf("want the server's close, got %v %v", f.op, err)
				}
				servertest.Write(t, conn, string(closeFrame(ws.StatusNormalClosure, "")))
			}},
		{name: "close handshake times out", code: StatusAbnormalClosure, serverCloses: true,
			end: func(t *testing.T, conn net.Conn, br *bufio.Reader, w *Conn, _ func()) {
				if err := w.CloseAsync(StatusNormalClosure, "done"); err != nil {
					t.Fatal(err)
				}
				if f, err := readServerFrame(br); err != nil || f.op != ws.OpClose {
					t.Fatalf("want the server's close, got %v %v", f.op, err)
				}
				// no answer: CloseTimeout ends the connection
			}},
		{name: "server shutdown", code: StatusGoingAway,
			end: func(t *testing.T, conn net.Conn, br *bufio.Reader, _ *Conn, shutdown func()) {
				shutdown()
				if f, err := readServerFrame(br); err != nil || f.op != ws.OpClose ||
					len(f.payload) < 2 || binary.BigEndian.Uint16(f.payload) != uint16(StatusGoingAway) {
					t.Fatalf("want a 1001 close, got %v %x %v", f.op, f.payload, err)
				}
				servertest.Write(t, conn, string(closeFrame(ws.StatusGoingAway, "")))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var events []string
			event := func(e string) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			}
			closes := make(chan StatusCode, 4)
			conns := make(chan *Conn, 1)
			g := newGate()
			h := Handler{
				UseWorkerPool: true,
				CloseTimeout:  300 * time.Millisecond,
				OnOpen:        func(*Conn) { event("open") },
				OnMessage: func(c *Conn, m Message) {
					event("message")
					if tc.selfClose {
						c.Close(StatusNormalClosure, "self")
						if err := c.Write(OpText, []byte("late")); err != ErrClosed {
							t.Errorf("Write after Close: %v, want ErrClosed", err)
						}
					}
					conns <- c
					g.block()
					event("message returned")
				},
				OnClose: func(_ *Conn, code StatusCode, _ string) {
					event("close")
					closes <- code
				},
			}
			srv, cancel, sv := runServer(t, server.Config{Loops: 1}, func(s *server.Server) {
				s.Route("/ws", server.Route{Upgraders: []server.Upgrader{New(h)}})
			})
			t.Cleanup(g.open)
			conn, br := upgrade(t, srv, "", append(text("block"), tc.also...))
			g.waitEntered(t)
			tc.end(t, conn, br, <-conns, cancel)
			window := time.After(0)
			if tc.serverCloses {
				// Once the server has closed the connection, an OnClose that did not
				// wait for OnMessage would be on its way: give it a moment to show.
				for deadline := time.Now().Add(10 * time.Second); srv.Open() != 0; {
					if time.Now().After(deadline) {
						t.Fatal("the server never closed the connection")
					}
					time.Sleep(time.Millisecond)
				}
				window = time.After(200 * time.Millisecond)
			}
			select {
			case code := <-closes:
				t.Fatalf("OnClose (%d) ran while OnMessage was blocked", code)
			case <-window:
			}
			g.open()
			select {
			case code := <-closes:
				if code != tc.code {
					t.Errorf("OnClose with %d, want %d", code, tc.code)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("OnClose never ran")
			}
			cancel()
			servertest.Wait(t, sv)
			mu.Lock()
			defer mu.Unlock()
			if want := []string{"open", "message", "message returned", "close"}; !slices.Equal(events, want) {
				t.Errorf("callbacks %q, want %q", events, want)
			}
		})
	}
}

// With every worker busy, a connection's callback waits for a worker, in order, and the
// connection stays paused; the loop goes on serving everything else meanwhile. One
// worker: while connection A's OnMessage blocks it, B's three messages wait and a plain
// HTTP request on the same loop is answered; once A's returns, B's run in order.
func TestOffLoopFullPoolWaitsForAWorker(t *testing.T) {
	g := newGate()
	var bEarly atomic.Bool
	h := Handler{
		UseWorkerPool: true,
		OnMessage: func(c *Conn, m Message) {
			if string(m.Payload) == "block" {
				g.block()
			} else if !g.opened() {
				bEarly.Store(true) // a second callback ran beside the blocked one
			}
			_ = c.Write(m.Op, m.Payload)
		},
	}
	srv, _, _ := runServer(t, server.Config{Loops: 1, WorkerPoolSize: 1}, func(s *server.Server) {
		s.Route("/ws", server.Route{Upgraders: []server.Upgrader{New(h)}})
		s.Route("/plain", server.Route{HTTP: func(w *server.ResponseWriter, _ *server.Request) {
			w.WriteString("plain")
		}})
	})
	t.Cleanup(g.open)
	_, abr := upgrade(t, srv, "", text("block"))
	g.waitEntered(t)
	_, bbr := upgrade(t, srv, "", append(append(text("1"), text("2")...), text("3")...))

	plain := servertest.Dial(t, srv.Addr())
	pbr := bufio.NewReader(plain)
	servertest.Write(t, plain, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, body := servertest.ReadResponse(t, pbr, "GET")
	if resp.StatusCode != 200 || string(body) != "plain" {
		t.Fatalf("plain request: %d %q", resp.StatusCode, body)
	}
	if g.opened() {
		t.Fatal("the gate opened before the plain request was answered")
	}

	g.open()
	expectText(t, abr, "block")
	for _, s := range []string{"1", "2", "3"} {
		expectText(t, bbr, s)
	}
	if bEarly.Load() {
		t.Error("a callback ran while the pool's only worker was blocked")
	}
}

// A callback waiting for a worker starts the moment one frees, taken by that worker,
// even while its loop is busy with something else: the wait needs neither a timer nor a
// turn of the loop. One loop, one worker: A's OnMessage blocks the worker, B's message
// waits for it (B's pong says the loop has handed the message out), the loop is then held
// by a task, and A's callback is let go; B's must run before the loop is released.
func TestOffLoopWaitingCallbackStartsWhenAWorkerFrees(t *testing.T) {
	g := newGate()
	var first atomic.Pointer[Conn]
	bRan := make(chan struct{})
	h := Handler{
		UseWorkerPool: true,
		OnMessage: func(c *Conn, m Message) {
			if string(m.Payload) == "block" {
				first.Store(c)
				g.block()
				return
			}
			close(bRan)
		},
	}
	srv := serveWS(t, server.Config{Loops: 1, WorkerPoolSize: 1}, h)
	t.Cleanup(g.open)
	queueBehindBlocked(t, srv, g)

	busy, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	if err := first.Load().Conn().Execute(func(*server.Conn) { close(busy); <-release }); err != nil {
		t.Fatal(err)
	}
	<-busy
	g.open()
	select {
	case <-bRan:
	case <-time.After(10 * time.Second):
		t.Fatal("B's callback did not start while the loop was busy: it waited for a turn of the loop")
	}
}

// A callback that panics on the pool closes its connection with 1011, and OnClose runs.
func TestOffLoopPanicClosesWith1011(t *testing.T) {
	closed := make(chan StatusCode, 1)
	h := Handler{
		UseWorkerPool: true,
		OnMessage:     func(*Conn, Message) { panic("boom") },
		OnClose:       func(_ *Conn, code StatusCode, _ string) { closed <- code },
	}
	srv := serveWS(t, server.Config{Loops: 1}, h)
	conn, br := upgrade(t, srv, "", text("x"))
	f, err := readServerFrame(br)
	if err != nil || f.op != ws.OpClose || len(f.payload) < 2 || binary.BigEndian.Uint16(f.payload) != uint16(StatusInternalError) {
		t.Fatalf("want a 1011 close, got %v %x %v", f.op, f.payload, err)
	}
	servertest.Write(t, conn, string(closeFrame(ws.StatusInternalError, "")))
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose never ran")
	}
}

// Hub.Add and Hub.Remove from callbacks on the pool take effect on the loop: a member
// added in OnOpen gets broadcasts, and one removed in OnClose leaves the hub.
func TestOffLoopHubMembership(t *testing.T) {
	hub := NewHub()
	h := Handler{
		UseWorkerPool: true,
		OnOpen:        func(c *Conn) { hub.Add(c) },
		OnClose:       func(c *Conn, _ StatusCode, _ string) { hub.Remove(c) },
	}
	srv := serveWS(t, server.Config{Loops: 1}, h)
	conn, br := upgrade(t, srv, "", nil)
	for deadline := time.Now().Add(10 * time.Second); hub.Len() != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("the hub has %d members, want 1", hub.Len())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := hub.Broadcast(NewPreparedMessage(OpText, []byte("news"))); err != nil {
		t.Fatal(err)
	}
	expectText(t, br, "news")
	_ = conn.Close()
	for deadline := time.Now().Add(10 * time.Second); hub.Len() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the hub still has %d members after the connection closed", hub.Len())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkOffLoopEcho is one echo round trip over a loopback socket with OnMessage on
// the loop and on the worker pool, for comparison (the allocations counted include the
// server's whole path, the client's reads being allocation-free).
func BenchmarkOffLoopEcho(b *testing.B) {
	for _, pool := range []bool{false, true} {
		for _, n := range []int{64, 4 << 10} {
			name := "loop"
			if pool {
				name = "pool"
			}
			b.Run(name+"/"+strconv.Itoa(n)+"B", func(b *testing.B) {
				h := Handler{UseWorkerPool: pool, OnMessage: func(c *Conn, m Message) { _ = c.Write(m.Op, m.Payload) }}
				srv := serveWS(b, server.Config{Loops: 1}, h)
				conn := servertest.Dial(b, srv.Addr())
				_ = conn.SetDeadline(time.Time{})
				br := bufio.NewReaderSize(conn, 64<<10)
				if _, err := conn.Write([]byte(handshake + "\r\n")); err != nil {
					b.Fatal(err)
				}
				if resp, _ := servertest.ReadResponse(b, br, "GET"); resp.StatusCode != 101 {
					b.Fatalf("handshake: %d", resp.StatusCode)
				}
				in := msg(ws.OpBinary, binaryOf(n))
				reply := make([]byte, len(ws.AppendFrame(nil, true, ws.OpBinary, false, binaryOf(n))))
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := conn.Write(in); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(br, reply); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// Callbacks still waiting for a worker when the server stops run, each followed by its
// connection's OnClose: a program that counts its connections in OnOpen and OnClose does
// not leak the ones whose callbacks were queued.
func TestOffLoopCallbacksQueuedAtShutdownRunAndClose(t *testing.T) {
	g := newGate()
	bRan := make(chan struct{})
	closed := make(chan StatusCode, 2)
	h := Handler{
		UseWorkerPool: true,
		OnMessage: func(c *Conn, m Message) {
			if string(m.Payload) == "block" {
				g.block()
				return
			}
			close(bRan)
		},
		OnClose: func(_ *Conn, code StatusCode, _ string) { closed <- code },
	}
	srv, stop, served := runServer(t, server.Config{Loops: 1, WorkerPoolSize: 1, ShutdownTimeout: 50 * time.Millisecond},
		func(s *server.Server) {
			s.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{New(h)}})
		})
	t.Cleanup(g.open)
	queueBehindBlocked(t, srv, g)

	stop() // neither client answers the drain's close: the shutdown times out
	servertest.Wait(t, served)
	g.open()
	select {
	case <-bRan:
	case <-time.After(10 * time.Second):
		t.Fatal("B's callback, queued when the server stopped, never ran")
	}
	for i := range 2 {
		select {
		case code := <-closed:
			if code != StatusAbnormalClosure {
				t.Errorf("OnClose %d: code %d, want %d", i, code, StatusAbnormalClosure)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("OnClose ran for %d of the 2 connections", i)
		}
	}
}

// queueBehindBlocked has a first connection's callback ("block") take the pool's only
// worker and stay on g, then queues a second connection's message ("wait") behind it:
// the pong to the ping sent after it says the loop has read the message, which now waits
// for the worker.
func queueBehindBlocked(t *testing.T, srv *server.Server, g *gate) {
	t.Helper()
	upgrade(t, srv, "", text("block"))
	g.waitEntered(t)
	b, bbr := upgrade(t, srv, "", nil)
	servertest.Write(t, b, string(append(text("wait"), ping([]byte("p"))...)))
	if op, p := readFrame(t, bbr); op != ws.OpPong || string(p) != "p" {
		t.Fatalf("got op %v %q, want the pong", op, p)
	}
}
