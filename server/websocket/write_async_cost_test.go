package websocket

import (
	"net"
	"testing"
	"time"
)

// WriteAsync allocates one object per message in the steady state: the node of gnet's
// lock-free task queue. The frame comes from a pool and is queued to the loop as the
// task's parameter, without a closure (upstream gnet's AsyncWrite allocated a hook and
// Execute a closure beside the node); the loop writes it and puts it back. Each write
// waits for the loop to take it, as a pool that a backlog empties would allocate; the
// client drains the connection meanwhile into a fixed buffer.
func TestWriteAsyncAllocatesOnlyTheQueueNode(t *testing.T) {
	srv, opened := hubServer(t, NewHub(), Handler{SendBudget: 64 << 20})
	conns, _, members := subscribe(t, srv, opened, 1)
	drained := make(chan struct{})
	go func(c net.Conn) {
		defer close(drained)
		buf := make([]byte, 64<<10)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}(conns[0])
	w, msg := members[0], []byte("tick")
	for range 1000 { // fill the pools
		if err := w.WriteAsync(OpText, msg); err != nil {
			t.Fatal(err)
		}
	}
	write := func() {
		_ = w.WriteAsync(OpText, msg)
		for w.queued.Load() != 0 {
			time.Sleep(10 * time.Microsecond)
		}
	}
	write()
	if allocs := testing.AllocsPerRun(2000, write); allocs > 1.05 {
		t.Fatalf("%.3f allocations per WriteAsync, want 1 (the task queue's node)", allocs)
	}
	_ = conns[0].SetDeadline(time.Now())
	<-drained
}
