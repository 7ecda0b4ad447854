package hostile

import (
	"bytes"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// chatConfig is `switchyard serve`'s default routes plus a broadcast route with its
// defaults (overflow: drop).
const chatConfig = `{"routes": [
	{"path": "/", "kind": "text", "text": "hello from a hostile test\n"},
	{"path": "/echo", "kind": "echo"},
	{"path": "/chat", "kind": "broadcast"}
]}`

// Issue 14 item 7: 50 subscribers of a broadcast route never read, and a publisher (which
// reads what it is sent, so that nothing slows it down) sends 64-byte messages as fast as
// the server takes them: 200,000 of them, for at most 2 seconds. What the server holds is
// bounded by the members' send budgets and a bounded delivery queue, not by what the
// publisher sends: RSS grows by at most 128 MiB. A subscriber that reads still gets
// messages, during the flood and after it.
func TestBroadcastToNonReadingSubscribers(t *testing.T) {
	srv := startServer(t, chatConfig)
	s := besiege(t, srv, nil)
	const subscribers = 50
	for range subscribers {
		if _, err := upgradeWS(dialNonReader(t, srv.addr), "/chat", ""); err != nil {
			t.Fatal(err)
		}
	}
	reader := dialWS(t, srv.addr, "/chat", "")
	var flood64, finals atomic.Int64
	readerDone := make(chan error, 1)
	go func() {
		for {
			f, err := reader.readFrame(false)
			if err != nil {
				readerDone <- err
				return
			}
			switch {
			case f.op == ws.OpPing:
				_ = reader.send(ws.OpPong, 0, f.payload)
			case bytes.HasPrefix(f.payload, []byte("final")):
				finals.Add(1)
			case bytes.HasPrefix(f.payload, []byte("flood")):
				flood64.Add(1)
			}
		}
	}()
	publisher := dialWS(t, srv.addr, "/chat", "")
	go func() { _, _ = io.Copy(io.Discard, publisher.br) }() // never slowed by its own copies

	const perChunk, chunks = 1000, 200
	msg := bytes.Repeat([]byte("flood"), 13)[:64]
	var chunk []byte
	for range perChunk {
		chunk = publisher.frame(chunk, ws.OpBinary, 0, msg)
	}
	var f flooded
	var duringFlood int64
	rep := s.during(func() {
		f = flood(publisher.c, chunks, time.Now().Add(2*time.Second), func(int) []byte { return chunk })
		duringFlood = flood64.Load()
	})
	t.Logf("attack: %d messages of 64 bytes to %d subscribers that do not read: %v", f.chunks*perChunk, subscribers, f)
	t.Logf("the reading subscriber got %d of the flood's messages by the time the publisher stopped, %d in all",
		duringFlood, flood64.Load())
	rep.check(t, "broadcast to 50 non-reading subscribers", 128<<20)
	if f.err != nil {
		t.Errorf("the server closed the publisher: %v", f.err)
	}

	// After the flood, a message published still reaches the reading subscriber (sent
	// again until it does: the delivery queue may still be full at first). A new
	// publisher: the flood's may have stopped in the middle of a frame.
	publisher = dialWS(t, srv.addr, "/chat", "")
	go func() { _, _ = io.Copy(io.Discard, publisher.br) }()
	for deadline := time.Now().Add(safety); finals.Load() == 0; time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-readerDone:
			t.Fatalf("the reading subscriber's connection ended: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message published after the flood reached the reading subscriber within %v", safety)
		}
		if err := publisher.send(ws.OpText, 0, fmt.Appendf(nil, "final %v", time.Now())); err != nil {
			t.Fatalf("publishing after the flood: %v", err)
		}
	}
	if flood64.Load() == 0 {
		t.Errorf("the reading subscriber got none of the flood's messages")
	}
}
