package topics_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server/topics"
	"github.com/switchyard-dev/switchyard/server/topics/internal/roomtest"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// A publish reaches the topic's members and nobody else.
func TestPublishReachesTheTopicsMembersOnly(t *testing.T) {
	tp, _ := topics.New(nil)
	srv, opened, _ := roomtest.Server(t, tp, websocket.Handler{})
	a, b, c := roomtest.Dial(t, srv, opened), roomtest.Dial(t, srv, opened), roomtest.Dial(t, srv, opened)
	a.Do("sub x")
	b.Do("sub x")
	c.Do("sub y")
	if err := tp.Publish("x", []byte("to x"), topics.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	_ = tp.Publish("y", []byte("to y"), topics.PublishOptions{Binary: true})
	a.Expect(ws.OpText, "to x")
	b.Expect(ws.OpText, "to x")
	c.Expect(ws.OpBinary, "to y") // and not "to x" before it
	if n := tp.Count("x"); n != 2 {
		t.Fatalf("Count(x) = %d, want 2", n)
	}
}

// "Everyone but the sender": the sender's next message is the one after its own.
func TestPublishExceptTheSender(t *testing.T) {
	tp, _ := topics.New(nil)
	srv, opened, _ := roomtest.Server(t, tp, websocket.Handler{})
	a, b, c := roomtest.Dial(t, srv, opened), roomtest.Dial(t, srv, opened), roomtest.Dial(t, srv, opened)
	for _, cl := range []*roomtest.Client{a, b, c} {
		cl.Do("sub x")
	}
	a.Send("pub x from a")
	b.Expect(ws.OpText, "from a")
	c.Expect(ws.OpText, "from a")
	_ = tp.Publish("x", []byte("to all"), topics.PublishOptions{})
	a.Expect(ws.OpText, "to all")
	b.Expect(ws.OpText, "to all")
	c.Expect(ws.OpText, "to all")
}

// A room comes with its first member and goes with its last; the engine hears of both
// once, and of every publish once.
func TestRoomLifetimeAndEngine(t *testing.T) {
	rec := &recorder{}
	tp, _ := topics.New(rec)
	srv, opened, left := roomtest.Server(t, tp, websocket.Handler{})
	a, b := roomtest.Dial(t, srv, opened), roomtest.Dial(t, srv, opened)
	a.Do("sub x")
	a.Do("sub x") // twice is once
	b.Do("sub x")
	if n := tp.Count("x"); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
	a.Do("unsub x")
	if n := tp.Count("x"); n != 1 {
		t.Fatalf("after an unsubscribe, Count = %d, want 1", n)
	}
	b.Send("pub x hello")
	b.Conn.Close()
	select {
	case <-left:
	case <-time.After(10 * time.Second):
		t.Fatal("the closed member did not leave")
	}
	if n, s := tp.Count("x"), tp.Stats(); n != 0 || s.Rooms != 0 || s.Members != 0 {
		t.Fatalf("after the last member left: Count %d, %+v", n, s)
	}
	interest, published := rec.seen()
	if !slices.Equal(interest, []string{"+x", "-x"}) {
		t.Fatalf("engine interest: %q", interest)
	}
	if !slices.Equal(published, []string{"x 1 hello"}) {
		t.Fatalf("engine publishes: %q", published)
	}
}

// Messages from other nodes reach this node's members through the engine.
func TestEngineDeliversToTheRoom(t *testing.T) {
	rec := &recorder{}
	tp, _ := topics.New(rec)
	srv, opened, _ := roomtest.Server(t, tp, websocket.Handler{})
	a, b := roomtest.Dial(t, srv, opened), roomtest.Dial(t, srv, opened)
	a.Do("sub x")
	b.Do("sub x")
	rec.deliver("x", websocket.OpBinary, []byte{1, 2, 3})
	rec.deliver("nobody", websocket.OpText, []byte("lost"))
	a.Expect(ws.OpBinary, "\x01\x02\x03")
	b.Expect(ws.OpBinary, "\x01\x02\x03")
	if s := tp.Stats(); s.Received != 2 || s.Unwanted != 1 {
		t.Fatalf("stats %+v: want 2 received, 1 for no room", s)
	}
}

// Each member's overflow policy holds for room messages: a member that reads nothing
// loses messages or is closed, as its route says, while one that reads gets them all.
func TestRoomFollowsEachMembersOverflowPolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy websocket.OverflowPolicy
		code   websocket.StatusCode // 0: stays open, drops
	}{
		{"drop", websocket.DropMessages, 0},
		{"close-1013", websocket.CloseTryAgainLater, 1013},
		{"close-1008", websocket.ClosePolicyViolation, 1008},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const budget, size, msgs = 64 << 10, 16 << 10, 400 // 6.4 MiB: more than the kernel takes
			tp, _ := topics.New(nil)
			srv, opened, _ := roomtest.Server(t, tp, websocket.Handler{SendBudget: budget, Overflow: tc.policy})
			stalled, reader := roomtest.Dial(t, srv, opened), roomtest.Dial(t, srv, opened)
			stalled.Do("sub x")
			reader.Do("sub x")
			payload := bytes.Repeat([]byte{'z'}, size)
			read := make(chan struct{}, msgs)
			done := make(chan struct{})
			go func() {
				// At most two messages ahead of the reading member: only the member that
				// reads nothing may go past its budget.
				defer close(done)
				for i := 0; i < msgs; i++ {
					if i >= 2 {
						<-read
					}
					_ = tp.Publish("x", payload, topics.PublishOptions{Binary: true})
				}
			}()
			for i := 0; i < msgs; i++ {
				if op, p := reader.Next(); op != ws.OpBinary || len(p) != size {
					t.Fatalf("reading member, message %d: %v, %d bytes", i, op, len(p))
				}
				read <- struct{}{}
			}
			<-done
			if reader.W.Dropped() != 0 {
				t.Fatalf("the reading member lost %d messages", reader.W.Dropped())
			}
			if tc.code == 0 {
				if stalled.W.Dropped() == 0 {
					t.Fatal("the member that reads nothing lost no message")
				}
				return
			}
			for { // what was queued before the close, then the close frame
				op, p := stalled.Next()
				if op == ws.OpClose {
					if code := websocket.StatusCode(uint16(p[0])<<8 | uint16(p[1])); code != tc.code {
						t.Fatalf("closed with %d, want %d", code, tc.code)
					}
					return
				}
			}
		})
	}
}
