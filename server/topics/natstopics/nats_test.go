package natstopics

import (
	"fmt"
	"github.com/switchyard-dev/switchyard/server/topics/natstopics/natstest"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
	"github.com/switchyard-dev/switchyard/server/topics"
	"github.com/switchyard-dev/switchyard/server/topics/internal/roomtest"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

func newNode(t *testing.T, url string) (*topics.Topics, *Engine) {
	t.Helper()
	e, err := New(Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	tp, err := topics.New(e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tp.Close() })
	return tp, e
}

// skipUntil reads a member's frames up to and including the text marker.
func skipUntil(t *testing.T, cl *roomtest.Client, marker string) {
	t.Helper()
	for {
		if op, p := cl.Next(); op == ws.OpText && string(p) == marker {
			return
		}
	}
}

// Two nodes on one NATS server are one room: a member's messages reach every other
// member on both nodes, once and in order, and not the sender.
func TestTwoNodesAreOneRoom(t *testing.T) {
	nats := natstest.Start(t)
	tpA, eA := newNode(t, nats.URL())
	tpB, eB := newNode(t, nats.URL())
	srvA, openedA, _ := roomtest.Server(t, tpA, websocket.Handler{})
	srvB, openedB, _ := roomtest.Server(t, tpB, websocket.Handler{})
	a1, a2 := roomtest.Dial(t, srvA, openedA), roomtest.Dial(t, srvA, openedA)
	b1, b2 := roomtest.Dial(t, srvB, openedB), roomtest.Dial(t, srvB, openedB)
	all := []*roomtest.Client{a1, a2, b1, b2}
	for _, cl := range all {
		cl.Do("sub room")
	}
	// Node B's subscription reaches the NATS server in its own time: until then node A's
	// messages have nobody to go to.
	servertest.Eventually(t, "node B receives from node A", func() bool {
		_ = tpA.Publish("room", []byte("warm-up"), topics.PublishOptions{})
		return tpB.Stats().Received > 0
	})
	_ = tpA.Publish("room", []byte("start"), topics.PublishOptions{})
	for _, cl := range all {
		skipUntil(t, cl, "start")
	}
	if tpA.Count("room") != 2 || tpB.Count("room") != 2 {
		t.Fatalf("presence: %d on A, %d on B, want 2 each", tpA.Count("room"), tpB.Count("room"))
	}

	const n = 200
	for i := range n {
		a1.Send(fmt.Sprintf("pub room a%d", i))
	}
	for _, cl := range []*roomtest.Client{a2, b1, b2} {
		for i := range n {
			cl.Expect(ws.OpText, fmt.Sprintf("a%d", i))
		}
	}
	b1.Send("pub room from b1")
	a1.Expect(ws.OpText, "from b1") // and none of its own before it
	a2.Expect(ws.OpText, "from b1")
	b2.Expect(ws.OpText, "from b1")
	sA, sB := eA.Stats(), eB.Stats()
	if sA.Lost()+sB.Lost() != 0 || sA.Duplicates+sB.Duplicates != 0 {
		t.Fatalf("nothing should be lost or doubled: A %+v, B %+v", sA, sB)
	}
}

// A publish from a loop never waits: past the queue it is dropped and counted, and it
// does not allocate either way.
func TestPublishNeverWaits(t *testing.T) {
	nats := natstest.Start(t)
	e, err := New(Config{URL: nats.URL(), QueueMessages: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// Not started: nothing takes the queue. Buffers are reused once they have been
	// used: take them all once, as a running engine would.
	payload := make([]byte, 100)
	for range 200 {
		e.Publish("room", websocket.OpText, payload)
	}
	for len(e.queue) > 0 {
		e.free <- <-e.queue
	}
	e.queuedBytes.Store(0)
	allocs := testing.AllocsPerRun(100, func() { e.Publish("room", websocket.OpText, payload) })
	if allocs != 0 {
		t.Fatalf("Publish allocates %.1f times", allocs)
	}
	for range 199 {
		e.Publish("room", websocket.OpText, payload)
	}
	if got := e.Stats().QueueDropped; got != 101+199-200 {
		t.Fatalf("%d dropped, want %d", got, 101+199-200)
	}
	if allocs := testing.AllocsPerRun(100, func() { e.Publish("room", websocket.OpText, payload) }); allocs != 0 {
		t.Fatalf("a dropped Publish allocates %.1f times", allocs)
	}
}

// While NATS is away, publishes fill the bounded reconnect buffer and the rest are
// refused and counted; the engine comes back with the server.
func TestOutageIsBoundedAndCounted(t *testing.T) {
	nats := natstest.Start(t)
	e, err := New(Config{URL: nats.URL(), ReconnectBuffer: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	tp, err := topics.New(e)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	nats.Kill()
	servertest.Eventually(t, "the engine sees NATS gone", func() bool { return e.Stats().Disconnects > 0 })
	const n = 200
	payload := make([]byte, 100) // 200 × 118 bytes: more than the 4 KiB buffer
	for range n {
		_ = tp.Publish("room", payload, topics.PublishOptions{})
	}
	servertest.Eventually(t, "every publish handled", func() bool { s := e.Stats(); return s.Published+s.Refused == n })
	if s := e.Stats(); s.Refused == 0 || s.Published == 0 {
		t.Fatalf("want some buffered and some refused: %+v", s)
	}
	nats.Restart()
	servertest.Eventually(t, "the engine reconnects", func() bool { return e.Stats().Reconnects > 0 && e.Stats().Connected })
}
