package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// hubServer serves /ws subscribers that join hub on open and leave it on close; opened
// reports each member, left each one gone.
func hubServer(t *testing.T, hub *Hub, h WebSocketHandler) (*Server, chan *WSConn) {
	srv, opened, _ := hubServerLeaving(t, hub, h)
	return srv, opened
}

func hubServerLeaving(t *testing.T, hub *Hub, h WebSocketHandler) (*Server, chan *WSConn, chan *WSConn) {
	t.Helper()
	opened, left := make(chan *WSConn, 64), make(chan *WSConn, 64)
	h.OnOpen = func(w *WSConn) { hub.Add(w); opened <- w }
	h.OnClose = func(w *WSConn, _ ws.StatusCode, _ string) { hub.Remove(w); left <- w }
	h.OnMessage = func(*WSConn, Message) {}
	srv := startServer(t, Config{Loops: 2}, func(s *Server) {
		s.Route("/ws", Route{RequireUpgrade: true, Upgraders: []Upgrader{WebSocket(h)}})
	})
	return srv, opened, left
}

func subscribe(t *testing.T, srv *Server, opened chan *WSConn, n int) ([]net.Conn, []*bufio.Reader, []*WSConn) {
	t.Helper()
	conns, readers, members := make([]net.Conn, n), make([]*bufio.Reader, n), make([]*WSConn, n)
	for i := range conns {
		conns[i], readers[i] = upgradeWS(t, srv, "", nil)
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
	srv, opened := hubServer(t, hub, WebSocketHandler{})
	conns, readers, _ := subscribe(t, srv, opened, 6)
	const msgs = 300
	go func() {
		for i := 0; i < msgs; i++ {
			hub.Broadcast(NewPreparedMessage(ws.OpText, []byte(fmt.Sprintf("m%03d", i)), 0, 0))
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
	srv, opened := hubServer(t, hub, WebSocketHandler{SendBudget: budget, Overflow: DropMessages})
	conns, readers, members := subscribe(t, srv, opened, 2)
	stalled, reader := members[0], 1
	payload := make([]byte, size)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < msgs; i++ {
			hub.Broadcast(NewPreparedMessage(ws.OpBinary, payload, 0, 0))
		}
	}()
	_ = conns[reader].SetReadDeadline(time.Now().Add(20 * time.Second))
	for i := 0; i < msgs; i++ {
		if op, p := readFrame(t, readers[reader]); op != ws.OpBinary || len(p) != size {
			t.Fatalf("reading member, message %d: %v, %d bytes", i, op, len(p))
		}
	}
	<-done
	if stalled.Dropped() == 0 {
		t.Fatal("the member that reads nothing lost no broadcast")
	}
	if got := members[reader].Dropped(); got != 0 {
		t.Fatalf("the reading member lost %d broadcasts", got)
	}
	queued := make(chan int, 1)
	_ = stalled.c.loop.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		queued <- stalled.c.gc.OutboundBuffered() // loop only
		return nil
	}))
	if q := <-queued; q > budget+size {
		t.Fatalf("%d bytes queued for the stalled member, budget %d", q, budget)
	}
}

// A delivery that meets reset members closes them as it goes, and their OnClose takes
// them out of the hub while it walks the members: the others still get everything.
func TestHubSurvivesMembersThatFailMidDelivery(t *testing.T) {
	hub := NewHub()
	srv, opened, left := hubServerLeaving(t, hub, WebSocketHandler{})
	const n, msgs = 8, 10
	conns, readers, members := subscribe(t, srv, opened, n)
	// Hold every loop, reset half the members, broadcast, then let the loops go: the
	// delivery runs right behind the hold, before the loops see the resets.
	release := make(chan struct{})
	held := map[*loop]bool{}
	for _, m := range members {
		if l := m.c.loop; !held[l] {
			held[l] = true
			_ = l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
				<-release
				return nil
			}))
		}
	}
	for i := 0; i < n; i += 2 {
		_ = conns[i].(*net.TCPConn).SetLinger(0)
		_ = conns[i].Close()
	}
	time.Sleep(50 * time.Millisecond) // the resets arrive
	for i := 0; i < msgs; i++ {
		hub.Broadcast(NewPreparedMessage(ws.OpText, []byte(fmt.Sprintf("m%d", i)), 0, 0))
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
	reset := map[*WSConn]bool{}
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
	srv, opened := hubServer(t, hub, WebSocketHandler{})
	_, _, members := subscribe(t, srv, opened, 1)
	release := make(chan struct{})
	defer close(release)
	_ = members[0].c.loop.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		<-release
		return nil
	}))
	pm := NewPreparedMessage(ws.OpText, []byte("tick"), 0, 0)
	hub.Broadcast(pm) // queues the delivery task
	if allocs := testing.AllocsPerRun(2000, func() { hub.Broadcast(pm) }); allocs > 0.05 {
		t.Fatalf("%.3f allocations per broadcast, want none beyond the queue's growth", allocs)
	}
}

// Once the server has stopped, its loops take no more deliveries: broadcasts must not
// pile up for them.
func TestHubBroadcastAfterShutdownDoesNotQueue(t *testing.T) {
	hub := NewHub()
	opened := make(chan *WSConn, 1)
	h := WebSocketHandler{OnOpen: func(w *WSConn) { hub.Add(w); opened <- w }, OnMessage: func(*WSConn, Message) {}}
	srv, cancel, sv := runServer(t, Config{Loops: 1}, func(s *Server) {
		s.Route("/ws", Route{RequireUpgrade: true, Upgraders: []Upgrader{WebSocket(h)}})
	})
	conns, _, _ := subscribe(t, srv, opened, 1)
	_ = conns[0].Close() // nothing to drain: the shutdown is quick
	cancel()
	waitServed(t, sv)
	pm := NewPreparedMessage(ws.OpText, []byte("late"), 0, 0)
	for range 100 {
		hub.Broadcast(pm)
	}
	for _, p := range hub.list() {
		p.mu.Lock()
		queued := len(p.queued)
		p.mu.Unlock()
		if queued != 0 {
			t.Fatalf("%d broadcasts queued for a loop that has stopped", queued)
		}
	}
}
