package websocket

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// hubServer serves /ws subscribers that join hub on open and leave it on close; opened
// reports each member, left each one gone.
func hubServer(t testing.TB, hub *Hub, h Handler) (*server.Server, chan *Conn) {
	srv, opened, _ := hubServerLeaving(t, hub, h)
	return srv, opened
}

func hubServerLeaving(t testing.TB, hub *Hub, h Handler) (*server.Server, chan *Conn, chan *Conn) {
	t.Helper()
	opened, left := make(chan *Conn, 64), make(chan *Conn, 64)
	h.OnOpen = func(w *Conn) { hub.Add(w); opened <- w }
	h.OnClose = func(w *Conn, _ StatusCode, _ string) { hub.Remove(w); left <- w }
	h.OnMessage = func(*Conn, Message) {}
	return serveWS(t, server.Config{Loops: 2}, h), opened, left
}

func subscribe(t testing.TB, srv *server.Server, opened chan *Conn, n int) ([]net.Conn, []*bufio.Reader, []*Conn) {
	t.Helper()
	conns, readers, members := make([]net.Conn, n), make([]*bufio.Reader, n), make([]*Conn, n)
	for i := range conns {
		conns[i], readers[i] = upgrade(t, srv, "", nil)
		select {
		case members[i] = <-opened:
		case <-time.After(5 * time.Second):
			t.Fatal("subscriber not opened")
		}
	}
	return conns, readers, members
}

// Every member gets every broadcast once, in the order of the Broadcast calls, although
// deliveries queued while a loop is busy leave together.
func TestHubDeliversEveryBroadcastInOrder(t *testing.T) {
	hub := NewHub()
	srv, opened := hubServer(t, hub, Handler{})
	conns, readers, _ := subscribe(t, srv, opened, 6)
	const msgs = 300
	go func() {
		for i := 0; i < msgs; i++ {
			hub.Broadcast(NewPreparedMessage(OpText, []byte(fmt.Sprintf("m%03d", i))))
		}
	}()
	for s, br := range readers {
		_ = conns[s].SetReadDeadline(time.Now().Add(10 * time.Second))
		for i := 0; i < msgs; i++ {
			op, p := readFrame(t, br)
			if want := fmt.Sprintf("m%03d", i); op != ws.OpText || string(p) != want {
				t.Fatalf("subscriber %d, message %d: got %v %q, want %q", s, i, op, p, want)
			}
		}
	}
}

// A member that reads nothing loses broadcasts past its send budget under DropMessages,
// so the server holds at most the budget plus a message for it; the others lose nothing.
func TestHubDropsPastTheSendBudget(t *testing.T) {
	hub := NewHub()
	const budget, size, msgs = 64 << 10, 16 << 10, 400 // 6.4 MiB: more than the kernel takes
	srv, opened := hubServer(t, hub, Handler{SendBudget: budget, Overflow: DropMessages})
	conns, readers, members := subscribe(t, srv, opened, 2)
	stalled, reader := members[0], 1
	payload := make([]byte, size)
	done := make(chan struct{})
	// The publisher keeps at most two messages ahead of the reading member, well under
	// its budget however little CPU the reader gets on a busy machine: only the member
	// that reads nothing may lose broadcasts.
	read := make(chan struct{}, msgs)
	go func() {
		defer close(done)
		for i := 0; i < msgs; i++ {
			if i >= 2 {
				<-read
			}
			hub.Broadcast(NewPreparedMessage(OpBinary, payload))
		}
	}()
	_ = conns[reader].SetReadDeadline(time.Now().Add(time.Minute))
	for i := 0; i < msgs; i++ {
		if op, p := readFrame(t, readers[reader]); op != ws.OpBinary || len(p) != size {
			t.Fatalf("reading member, message %d: %v, %d bytes", i, op, len(p))
		}
		read <- struct{}{}
	}
	<-done
	if stalled.Dropped() == 0 {
		t.Fatal("the member that reads nothing lost no broadcast")
	}
	if got := members[reader].Dropped(); got != 0 {
		t.Fatalf("the reading member lost %d broadcasts", got)
	}
	queued := make(chan int, 1)
	if err := stalled.Conn().Execute(func(c *server.Conn) { queued <- c.Unsent() }); err != nil { // Unsent is loop only
		t.Fatal(err)
	}
	select {
	case q := <-queued:
		if q > budget+size {
			t.Fatalf("%d bytes queued for the stalled member, budget %d", q, budget)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stalled member's connection has closed")
	}
	// WriteAsync from another goroutine counts what the broadcasts left unsent too (a
	// member that only listens has no turn of its own to bring that count up to date),
	// also while its loop is busy and the writes wait for it.
	busy := make(hold)
	_ = stalled.Conn().Loop().Run(busy)
	for range 50 {
		_ = stalled.WriteAsync(OpBinary, payload)
	}
	close(busy)
	if err := stalled.Conn().Execute(func(c *server.Conn) { queued <- c.Unsent() }); err != nil {
		t.Fatal(err)
	}
	if q := <-queued; q > budget+size {
		t.Fatalf("%d bytes queued for the stalled member after WriteAsync, budget %d", q, budget)
	}
}

// A delivery that meets reset members closes them as it goes, and their OnClose takes
// them out of the hub while it walks the members: the others still get everything.
func TestHubSurvivesMembersThatFailMidDelivery(t *testing.T) {
	hub := NewHub()
	srv, opened, left := hubServerLeaving(t, hub, Handler{})
	const n, msgs = 8, 10
	conns, readers, members := subscribe(t, srv, opened, n)
	// Hold every loop, reset half the members, broadcast, then let the loops go: the
	// delivery runs right behind the hold, before the loops see the resets.
	release := make(chan struct{})
	held := map[*server.Loop]bool{}
	for _, m := range members {
		if l := m.Conn().Loop(); !held[l] {
			held[l] = true
			_ = l.Run(hold(release))
		}
	}
	for i := 0; i < n; i += 2 {
		_ = conns[i].(*net.TCPConn).SetLinger(0)
		_ = conns[i].Close()
	}
	time.Sleep(50 * time.Millisecond) // the resets arrive
	for i := 0; i < msgs; i++ {
		hub.Broadcast(NewPreparedMessage(OpText, []byte(fmt.Sprintf("m%d", i))))
	}
	close(release)
	for s := 1; s < n; s += 2 {
		_ = conns[s].SetReadDeadline(time.Now().Add(5 * time.Second))
		for i := 0; i < msgs; i++ {
			if _, p := readFrame(t, readers[s]); string(p) != fmt.Sprintf("m%d", i) {
				t.Fatalf("member %d, message %d: %q", s, i, p)
			}
		}
	}
	reset := map[*Conn]bool{}
	for i := 0; i < n; i += 2 {
		reset[members[i]] = true
	}
	for range n / 2 {
		select {
		case w := <-left:
			if !reset[w] {
				t.Fatal("a member that was not reset left the hub")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a reset member is still in the hub")
		}
	}
}

// While a loop is busy, a broadcast only joins the delivery already queued for it: no
// allocation (the caller's PreparedMessage aside).
func TestHubBroadcastToABusyLoopDoesNotAllocate(t *testing.T) {
	hub := NewHub()
	srv, opened := hubServer(t, hub, Handler{})
	_, _, members := subscribe(t, srv, opened, 1)
	release := make(chan struct{})
	defer close(release)
	_ = members[0].Conn().Loop().Run(hold(release))
	pm := NewPreparedMessage(OpText, []byte("tick"))
	hub.Broadcast(pm) // queues the delivery task
	if allocs := testing.AllocsPerRun(2000, func() { hub.Broadcast(pm) }); allocs > 0.05 {
		t.Fatalf("%.3f allocations per broadcast, want none beyond the queue's growth", allocs)
	}
}

// A broadcast that follows another task on its loop gets a delivery of its own (it must
// not overtake that task), and reuses a delivered batch for it: the loop queue's nodes
// are all it allocates, with several such deliveries waiting at once.
func TestHubBroadcastAfterAnotherTaskReusesBatches(t *testing.T) {
	hub := NewHub()
	srv, opened := hubServer(t, hub, Handler{})
	_, _, members := subscribe(t, srv, opened, 1)
	loop := members[0].Conn().Loop()
	ran := make(signal, 1)
	pm := NewPreparedMessage(OpText, []byte("tick"))
	round := func(broadcast bool) {
		for range 3 {
			if broadcast {
				hub.Broadcast(pm)
			}
			_ = loop.Run(nop{}) // the next broadcast may not join this one's delivery
		}
		_ = loop.Run(ran)
		<-ran
	}
	round(true)
	// Measured against the same tasks without the broadcasts (the race detector's
	// sync.Pool drops some of the loop queue's pooled task wrappers in both): the three
	// deliveries should add their queue nodes, 3; a batch made afresh adds 3 of its own.
	tasks := testing.AllocsPerRun(1000, func() { round(false) })
	withBroadcasts := testing.AllocsPerRun(1000, func() { round(true) })
	if extra := withBroadcasts - tasks; extra > 5 {
		t.Fatalf("3 broadcasts, each after another task, took %.2f allocations beyond the tasks' %.2f; want 3 (their queue nodes)", extra, tasks)
	}
}

// nop is a loop task that does nothing.
type nop struct{}

func (nop) Run(context.Context) error { return nil }

// signal is a loop task that reports that it ran.
type signal chan struct{}

func (s signal) Run(context.Context) error {
	s <- struct{}{}
	return nil
}

// Once the server has stopped, its loops take no more deliveries: broadcasts must not
// pile up for them.
func TestHubBroadcastAfterShutdownDoesNotQueue(t *testing.T) {
	hub := NewHub()
	opened := make(chan *Conn, 1)
	h := Handler{OnOpen: func(w *Conn) { hub.Add(w); opened <- w }, OnMessage: func(*Conn, Message) {}}
	srv, cancel, sv := runServer(t, server.Config{Loops: 1}, func(s *server.Server) {
		s.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{New(h)}})
	})
	conns, _, _ := subscribe(t, srv, opened, 1)
	_ = conns[0].Close() // nothing to drain: the shutdown is quick
	cancel()
	servertest.Wait(t, sv)
	pm := NewPreparedMessage(OpText, []byte("late"))
	for range 100 {
		hub.Broadcast(pm)
	}
	for _, p := range hub.list() {
		p.mu.Lock()
		queued, open := p.queuedBytes, p.open
		p.mu.Unlock()
		if queued != 0 || open != nil {
			t.Fatalf("%d bytes of broadcasts queued (a delivery open: %v) for a loop that has stopped", queued, open != nil)
		}
	}
}

// hold is a loop task that keeps its loop busy until release is closed.
type hold chan struct{}

func (h hold) Run(context.Context) error {
	<-h
	return nil
}

// A publisher faster than a loop can deliver is told so, and the loop's queue stays
// within hubQueueBudget: the broadcasts past it are not queued, and the members get the
// ones that were, in order.
func TestHubBroadcastTellsThePublisherWhenALoopIsBehind(t *testing.T) {
	hub := NewHub()
	// A member budget above the queue's, so that what this test sees is the queue's bound
	// and not the member's DropMessages policy (a delivery drops, past the budget, what
	// the socket has not taken).
	srv, opened := hubServer(t, hub, Handler{SendBudget: 4 * hubQueueBudget})
	conns, readers, members := subscribe(t, srv, opened, 1)
	release := make(hold)
	_ = members[0].Conn().Loop().Run(release) // the loop is busy until released
	const size = 64 << 10
	payload := make([]byte, size)
	queued := 0
	for ; queued < 10*hubQueueBudget/size; queued++ {
		if err := hub.Broadcast(NewPreparedMessage(OpBinary, payload)); err != nil {
			if err != ErrRoomSaturated {
				t.Fatalf("Broadcast: %v", err)
			}
			break
		}
	}
	if max := hubQueueBudget/size + 1; queued == 0 || queued > max {
		t.Fatalf("%d broadcasts queued for a busy loop, want 1 to %d", queued, max)
	}
	close(release)
	_ = conns[0].SetReadDeadline(time.Now().Add(time.Minute))
	for i := 0; i < queued; i++ {
		if op, p := readFrame(t, readers[0]); op != ws.OpBinary || len(p) != size {
			t.Fatalf("message %d: %v, %d bytes", i, op, len(p))
		}
	}
	// Once the loop has caught up, broadcasts are queued again.
	if err := hub.Broadcast(NewPreparedMessage(OpText, []byte("after"))); err != nil {
		t.Fatalf("Broadcast after the loop caught up: %v", err)
	}
	if op, p := readFrame(t, readers[0]); op != ws.OpText || string(p) != "after" {
		t.Fatalf("after: %v %q", op, p)
	}
}

// A callback may write to another connection of its loop: the bytes reach that peer, not
// the one being served (before, they joined the served connection's write).
func TestWriteToAnotherConnectionReachesThatPeer(t *testing.T) {
	var first *Conn
	joined := make(chan *Conn, 2)
	srv := serveWS(t, server.Config{Loops: 1}, Handler{
		OnOpen: func(c *Conn) {
			if first == nil {
				first = c
			}
			joined <- c
		},
		OnMessage: func(c *Conn, m Message) {
			if c != first {
				_ = first.Write(m.Op, m.Payload) // relay to the first member, on the same loop
			}
		},
	})
	_, aBr := upgrade(t, srv, "", nil)
	<-joined
	bConn, bBr := upgrade(t, srv, "", nil)
	<-joined
	servertest.Write(t, bConn, string(clientFrame(ws.OpText, true, []byte("for a"))))
	if op, p := readFrame(t, aBr); op != ws.OpText || string(p) != "for a" {
		t.Fatalf("a got %v %q", op, p)
	}
	// b was sent nothing: its next frame is the answer to its own ping.
	servertest.Write(t, bConn, string(clientFrame(ws.OpPing, true, []byte("b?"))))
	if op, p := readFrame(t, bBr); op != ws.OpPong || string(p) != "b?" {
		t.Fatalf("b got %v %q, want only its pong", op, p)
	}
}

// Add and Remove are idempotent: a member added twice gets each broadcast once, and
// removing one that is not (or no longer) a member changes nothing.
func TestHubAddAndRemoveAreIdempotent(t *testing.T) {
	hub := NewHub()
	srv, opened := hubServer(t, hub, Handler{})
	sockets, readers, members := subscribe(t, srv, opened, 2)
	a, b := members[0], members[1]
	onLoop := func(c *Conn, fn func()) {
		done := make(chan struct{})
		if err := c.Conn().Execute(func(*server.Conn) { fn(); close(done) }); err != nil {
			t.Fatal(err)
		}
		<-done
	}
	onLoop(a, func() { hub.Add(a) }) // already added in OnOpen
	onLoop(b, func() { hub.Remove(b); hub.Remove(b) })
	if n := hub.Len(); n != 1 {
		t.Fatalf("Len %d, want 1", n)
	}
	for _, msg := range []string{"one", "two"} {
		if err := hub.Broadcast(NewPreparedMessage(OpText, []byte(msg))); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"one", "two"} {
		if op, p := readFrame(t, readers[0]); op != ws.OpText || string(p) != want {
			t.Fatalf("member got %v %q, want %q once", op, p, want)
		}
	}
	// b, no longer a member, got nothing: a pong is the next thing it reads.
	servertest.Write(t, sockets[1], string(ping([]byte("p"))))
	if op, p := readFrame(t, readers[1]); op != ws.OpPong || string(p) != "p" {
		t.Fatalf("removed member got %v %q, want the pong", op, p)
	}
}
