package websocket

import (
	"net"
	"sync/atomic"
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
	w, _, stop := asyncTarget(t)
	defer stop()
	msg := []byte("tick")
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
}

// BenchmarkWriteAsync is a goroutine sending 64-byte messages to one connection with
// WriteAsync as fast as it can: the path of a publisher feeding a subscriber from
// outside the loop. ns/op is per message, from the first WriteAsync until the client has
// read the last frame.
func BenchmarkWriteAsync(b *testing.B) {
	w, got, stop := asyncTarget(b)
	defer stop()
	msg := make([]byte, 64)
	const frame = 2 + 64 // a server frame's header is 2 bytes at this size
	b.ReportAllocs()
	b.ResetTimer()
	start := got.Load()
	for range b.N {
		for w.WriteAsync(OpBinary, msg) == ErrDropped {
			time.Sleep(10 * time.Microsecond) // past the send budget: let the client catch up
		}
	}
	for got.Load()-start < int64(b.N)*frame {
		time.Sleep(10 * time.Microsecond)
	}
	b.StopTimer()
}

// asyncTarget is a WebSocket with a 64 MiB send budget whose client reads everything,
// counting the bytes in got; stop ends the client.
func asyncTarget(tb testing.TB) (w *Conn, got *atomic.Int64, stop func()) {
	srv, opened := hubServer(tb, NewHub(), Handler{SendBudget: 64 << 20})
	conns, _, members := subscribe(tb, srv, opened, 1)
	got = new(atomic.Int64)
	drained := make(chan struct{})
	go func(c net.Conn) {
		defer close(drained)
		buf := make([]byte, 256<<10)
		for {
			n, err := c.Read(buf)
			got.Add(int64(n))
			if err != nil {
				return
			}
		}
	}(conns[0])
	return members[0], got, func() {
		_ = conns[0].SetDeadline(time.Now())
		<-drained
	}
}
