package main

import (
	"github.com/switchyard-dev/switchyard/server/topics/natstopics/natstest"
	"testing"
	"time"
)

// Issue 18's must-show: two `switchyard serve -nats` nodes and a nats-server, 10,000
// subscribers split across the nodes, one publisher. Every message reaches every
// subscriber once, in publisher order; then the nats-server is killed and started again
// mid-run: each subscriber's messages still arrive in order without duplicates, and the
// messages the far node's subscribers miss are exactly those the nodes counted as lost.
func TestRoomsAcrossNodesOverNATS(t *testing.T) {
	const (
		subscribers = 10000
		phase1      = 100 // messages before the restart
		phase2      = 400 // messages across the restart, paced
		restartAt   = 120 // phase 2's message before which nats-server is killed
		maxTail     = 200
	)
	nats := natstest.Start(t)
	nodeA, nodeB := startRoomNode(t, nats.URL()), startRoomNode(t, nats.URL())

	sw := newSwarm(t)
	sw.dial(t, nodeA.addr, "/room", subscribers/2-1, 0)
	sw.dial(t, nodeB.addr, "/room", subscribers/2, 1)
	pc, err := wsDial(nodeA.addr, "/room") // the publisher is a member too: it gets its own
	if err != nil {
		t.Fatal(err)
	}
	sw.add(t, pc, 0)
	pub := &wsPublisher{c: pc}

	// Phase 0: until node B's subscription to the room is in place, node A's messages
	// reach NATS with nobody there for them; warm-up messages go until all have one.
	warm := uint32(0)
	for {
		warm++
		pub.send(t, 0, warm)
		if sw.waitAll(0, 1, 200*time.Millisecond) {
			break
		}
		if warm == 150 {
			t.Fatalf("subscribers never got a warm-up message: %v", sw.errors())
		}
	}

	// Phase 1: every message to every subscriber, once, in order (swarm.message checks).
	for i := uint32(1); i <= phase1; i++ {
		pub.send(t, 1, i)
	}
	if !sw.waitAll(1, phase1, time.Minute) {
		t.Fatalf("phase 1: not every subscriber got all %d messages; errors: %v", phase1, sw.errors())
	}
	if errs := sw.errors(); len(errs) > 0 {
		t.Fatalf("phase 1: %v", errs)
	}
	beforeA, beforeB := nodeA.roomCounters(t), nodeB.roomCounters(t)

	// Phase 2: nats-server dies and comes back while the publisher goes on.
	sw.track(2, phase2)
	sw.track(3, maxTail)
	restarted := make(chan struct{})
	for i := uint32(1); i <= phase2; i++ {
		if i == restartAt {
			nats.Kill()
			go func() { defer close(restarted); nats.Restart() }()
		}
		pub.send(t, 2, i)
		time.Sleep(2 * time.Millisecond) // pacing, so that the outage falls mid-run
	}
	<-restarted
	// Phase 3: a tail, until every subscriber has its latest message, so that node B has
	// seen a sequence number past every loss and counted it.
	tail := uint32(0)
	for {
		tail++
		if tail > maxTail {
			t.Fatalf("subscribers never caught up after the restart: %v", sw.errors())
		}
		pub.send(t, 3, tail)
		if sw.waitAll(3, tail, 500*time.Millisecond) {
			break
		}
	}
	afterA, afterB := nodeA.roomCounters(t), nodeB.roomCounters(t)
	if errs := sw.errors(); len(errs) > 0 {
		t.Fatalf("across the restart: %v", errs)
	}

	// Node A's members get everything from A's own loops; node B's either all get a
	// message or none does, for B receives it from NATS once.
	sw.mu.Lock()
	missedB := 0
	for phase, n := range map[int]int{2: phase2, 3: int(tail)} {
		for seq := 1; seq <= n; seq++ {
			got := [2]int{}
			for _, c := range sw.clients {
				if c.got[phase][seq] {
					got[c.node]++
				}
			}
			if got[0] != subscribers/2 {
				t.Errorf("phase %d message %d: %d of node A's %d members got it", phase, seq, got[0], subscribers/2)
			}
			switch got[1] {
			case subscribers / 2:
			case 0:
				missedB++
			default:
				t.Errorf("phase %d message %d: %d of node B's %d members got it (all or none)", phase, seq, got[1], subscribers/2)
			}
		}
	}
	sw.mu.Unlock()
	delta := func(after, before map[string]uint64, name string) uint64 { return after[name] - before[name] }
	queue, refused := delta(afterA, beforeA, "queue_dropped_total"), delta(afterA, beforeA, "refused_total")
	gaps := delta(afterB, beforeB, "gaps_total")
	counted := queue + refused + gaps
	t.Logf("restart: node B's members missed %d of %d messages; counted lost: %d (node A: %d queue drops, %d refused; node B: %d gaps); "+
		"node A disconnects %d reconnects %d; node B disconnects %d reconnects %d; duplicates at B %d",
		missedB, phase2+int(tail), counted, queue, refused, gaps,
		delta(afterA, beforeA, "disconnects_total"), delta(afterA, beforeA, "reconnects_total"),
		delta(afterB, beforeB, "disconnects_total"), delta(afterB, beforeB, "reconnects_total"),
		delta(afterB, beforeB, "duplicates_total"))
	if uint64(missedB) != counted {
		t.Errorf("node B's members missed %d messages, the nodes counted %d lost", missedB, counted)
	}
	if d := delta(afterB, beforeB, "reconnects_total"); d == 0 {
		t.Error("node B never reconnected: the restart did not happen as planned")
	}
}
