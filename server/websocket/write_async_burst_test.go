//go:build linux

package websocket

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// A burst of WriteAsync messages that wait for a busy loop leaves in a few writes, not a
// system call per message, and every message arrives whole and in order. The process's
// write calls are counted by the kernel (/proc/self/io); nothing else here writes
// meanwhile. The 201 tasks fit one of the loop's batches (MaxAsyncTasksAtOneTime, 256).
func TestWriteAsyncBurstLeavesInFewWrites(t *testing.T) {
	conn, r, w, release := heldMember(t, NewHub())
	const n = 200
	for i := range n {
		if err := w.WriteAsync(OpText, fmt.Appendf(nil, "m%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	before := servertest.WriteCalls(t)
	release()
	readAll(t, r, n)
	if writes := servertest.WriteCalls(t) - before; writes > 10 {
		t.Fatalf("%d messages took %d write calls, want a few", n, writes)
	}
}

// TestWriteAsyncKeepsOrderPastTheQueueThreshold: messages queued by one goroutine arrive
// in order even when more of them wait than the loop's first task queue takes (gnet's
// queue of urgent tasks admits ordinary ones only while it holds fewer than 1,024, and
// the loop serves it before the second queue, where the rest go), and more are queued
// while the loop works through them (the gnet fork's task_order.go).
func TestWriteAsyncKeepsOrderPastTheQueueThreshold(t *testing.T) {
	conn, r, w, release := heldMember(t, NewHub())
	const held, more = 3000, 3000
	send := func(i int) {
		if err := w.WriteAsync(OpText, fmt.Appendf(nil, "m%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range held {
		send(i)
	}
	release()
	for i := held; i < held+more; i++ {
		send(i)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	readAll(t, r, held+more)
}

// TestBroadcastDoesNotOvertakeAnEarlierWriteAsync: while a delivery of broadcasts waits
// for a busy loop, a WriteAsync to a member and then another broadcast arrive in the order
// they were made; the second broadcast does not join the waiting delivery.
func TestBroadcastDoesNotOvertakeAnEarlierWriteAsync(t *testing.T) {
	hub := NewHub()
	conn, r, w, release := heldMember(t, hub)
	broadcast := func(p string) {
		if err := hub.Broadcast(NewPreparedMessage(OpText, []byte(p))); err != nil {
			t.Fatal(err)
		}
	}
	broadcast("m000") // queues a delivery, which waits
	if err := w.WriteAsync(OpText, []byte("m001")); err != nil {
		t.Fatal(err)
	}
	broadcast("m002")
	broadcast("m003") // joins m002's delivery
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	release()
	readAll(t, r, 4)
}

// heldMember connects one WebSocket client, a member of hub, and holds its server-side
// loop busy (in an Execute) until release is called.
func heldMember(t *testing.T, hub *Hub) (net.Conn, *bufio.Reader, *Conn, func()) {
	t.Helper()
	srv, opened := hubServer(t, hub, Handler{})
	conns, readers, members := subscribe(t, srv, opened, 1)
	busy, release := make(chan struct{}), make(chan struct{})
	if err := members[0].Conn().Execute(func(*server.Conn) { close(busy); <-release }); err != nil {
		t.Fatal(err)
	}
	<-busy
	return conns[0], readers[0], members[0], func() { close(release) }
}

func readAll(t *testing.T, br *bufio.Reader, n int) {
	t.Helper()
	for i := range n {
		op, p := readFrame(t, br)
		if want := fmt.Sprintf("m%03d", i); op != ws.OpText || string(p) != want {
			t.Fatalf("message %d: %v %q, want %q", i, op, p, want)
		}
	}
}
