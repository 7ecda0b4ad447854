//go:build linux

package websocket

import (
	"bufio"
	"fmt"
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
	srv, opened := hubServer(t, NewHub(), Handler{})
	conns, readers, members := subscribe(t, srv, opened, 1)
	w := members[0]
	busy, release := make(chan struct{}), make(chan struct{})
	if err := w.Conn().Execute(func(*server.Conn) { close(busy); <-release }); err != nil {
		t.Fatal(err)
	}
	<-busy
	const n = 200
	for i := range n {
		if err := w.WriteAsync(OpText, fmt.Appendf(nil, "m%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	_ = conns[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	before := servertest.WriteCalls(t)
	close(release)
	readAll(t, readers[0], n)
	if writes := servertest.WriteCalls(t) - before; writes > 10 {
		t.Fatalf("%d messages took %d write calls, want a few", n, writes)
	}
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
