package websocket

import (
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// BroadcastExcept skips one member and only that one, also when its broadcasts are
// delivered in one batch with plain ones.
func TestHubBroadcastExceptSkipsOneMember(t *testing.T) {
	hub := NewHub()
	srv, opened := hubServer(t, hub, Handler{})
	_, readers, members := subscribe(t, srv, opened, 3)
	sender := members[0]
	if err := hub.BroadcastExcept(NewPreparedMessage(OpText, []byte("one")), sender); err != nil {
		t.Fatal(err)
	}
	hub.Broadcast(NewPreparedMessage(OpText, []byte("two")))
	hub.BroadcastExcept(NewPreparedMessage(OpText, []byte("three")), members[1])
	want := [][]string{{"two", "three"}, {"one", "two"}, {"one", "two", "three"}}
	for i, msgs := range want {
		for _, m := range msgs {
			if op, p := readFrame(t, readers[i]); op != ws.OpText || string(p) != m {
				t.Fatalf("member %d: got %v %q, want %q", i, op, p, m)
			}
		}
	}
	// Member 0's next message is the next broadcast: it was skipped only once.
	hub.Broadcast(NewPreparedMessage(OpText, []byte("four")))
	if _, p := readFrame(t, readers[0]); string(p) != "four" {
		t.Fatalf("member 0 then got %q", p)
	}
	if _, p := readFrame(t, readers[1]); string(p) != "four" {
		t.Fatalf("member 1 then got %q", p)
	}
}
