package topics

import (
	"sync"
	"sync/atomic"

	"github.com/switchyard-dev/switchyard/server/websocket"
)

// Topics is the named rooms of one node. Its methods are safe from any goroutine, but
// Subscribe, Unsubscribe and UnsubscribeAll follow websocket.Hub.Add and Remove: call
// them on the connection's loop (its callbacks), or from any callback on a route with
// Handler.UseWorkerPool.
type Topics struct {
	engine  Engine
	prepare []websocket.PrepareOption

	mu     sync.RWMutex
	rooms  map[string]*room
	joined map[*websocket.Conn][]string // each member's topics, for UnsubscribeAll

	published, received, saturated, unwanted atomic.Uint64
}

type room struct {
	hub     *websocket.Hub
	members map[*websocket.Conn]struct{}
}

// New returns rooms that reach other nodes through engine (nil: Local). opts tune how a
// published message is framed (compression threshold and level).
func New(engine Engine, opts ...websocket.PrepareOption) (*Topics, error) {
	if engine == nil {
		engine = Local{}
	}
	t := &Topics{engine: engine, prepare: opts, rooms: make(map[string]*room), joined: make(map[*websocket.Conn][]string)}
	if err := engine.Start(t.deliver); err != nil {
		return nil, err
	}
	return t, nil
}

// Close stops the engine. The rooms stay usable on this node.
func (t *Topics) Close() error { return t.engine.Close() }

// Subscribe makes c a member of topic's room. Subscribing twice is subscribing once.
func (t *Topics) Subscribe(topic string, c *websocket.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rooms[topic]
	if r == nil {
		r = &room{hub: websocket.NewHub(), members: make(map[*websocket.Conn]struct{})}
		t.rooms[topic] = r
		t.engine.Interest(topic, true)
	}
	if _, ok := r.members[c]; ok {
		return
	}
	r.members[c] = struct{}{}
	t.joined[c] = append(t.joined[c], topic)
	r.hub.Add(c)
}

// Unsubscribe takes c out of topic's room; the room goes with its last member.
func (t *Topics) Unsubscribe(topic string, c *websocket.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.leave(topic, c) {
		list := t.joined[c]
		for i, tp := range list {
			if tp == topic {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(t.joined, c)
		} else {
			t.joined[c] = list
		}
	}
}

// UnsubscribeAll takes c out of every room (typically in OnClose).
func (t *Topics) UnsubscribeAll(c *websocket.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, topic := range t.joined[c] {
		t.leave(topic, c)
	}
	delete(t.joined, c)
}

// leave takes c out of topic's room, reporting whether it was there. t.mu held.
func (t *Topics) leave(topic string, c *websocket.Conn) bool {
	r := t.rooms[topic]
	if r == nil {
		return false
	}
	if _, ok := r.members[c]; !ok {
		return false
	}
	delete(r.members, c)
	r.hub.Remove(c)
	if len(r.members) == 0 {
		delete(t.rooms, topic)
		t.engine.Interest(topic, false)
	}
	return true
}

// PublishOptions tunes Publish.
type PublishOptions struct {
	Binary bool            // a binary message (default: text)
	Except *websocket.Conn // a member that does not get the message: everyone but the sender
}

// Publish sends payload to topic's members on this node and, through the engine, on
// every node; payload is copied. It is framed once for this node, and once on each other
// node. The error is websocket.ErrRoomSaturated when some of this node's members miss
// the message because their loop is behind; other nodes count their losses themselves.
func (t *Topics) Publish(topic string, payload []byte, opts PublishOptions) error {
	op := websocket.OpText
	if opts.Binary {
		op = websocket.OpBinary
	}
	t.published.Add(1)
	var err error
	if hub := t.hub(topic); hub != nil {
		err = hub.BroadcastExcept(websocket.NewPreparedMessage(op, payload, t.prepare...), opts.Except)
		if err != nil {
			t.saturated.Add(1)
		}
	}
	t.engine.Publish(topic, op, payload)
	return err
}

// deliver is the engine's way in: one framing for all of this node's members.
func (t *Topics) deliver(topic string, op websocket.OpCode, payload []byte) {
	t.received.Add(1)
	hub := t.hub(topic)
	if hub == nil {
		t.unwanted.Add(1) // the last member left while the message was on its way
		return
	}
	if hub.Broadcast(websocket.NewPreparedMessage(op, payload, t.prepare...)) != nil {
		t.saturated.Add(1)
	}
}

func (t *Topics) hub(topic string) *websocket.Hub {
	t.mu.RLock()
	r := t.rooms[topic]
	t.mu.RUnlock()
	if r == nil {
		return nil
	}
	return r.hub
}

// Count is the presence count of topic on this node: its members here. The engines do
// not add up counts across nodes; a cluster-wide count is each node's Count summed.
func (t *Topics) Count(topic string) int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if r := t.rooms[topic]; r != nil {
		return len(r.members)
	}
	return 0
}

// Stats are a node's room counters.
type Stats struct {
	Rooms, Members int
	Published      uint64 // Publish calls on this node
	Received       uint64 // messages from other nodes
	Saturated      uint64 // publishes or deliveries some local members missed: their loop was behind
	Unwanted       uint64 // messages from other nodes for a room no longer here
}

// Stats reads the counters. Safe from any goroutine.
func (t *Topics) Stats() Stats {
	t.mu.RLock()
	s := Stats{Rooms: len(t.rooms), Members: len(t.joined)}
	t.mu.RUnlock()
	s.Published, s.Received = t.published.Load(), t.received.Load()
	s.Saturated, s.Unwanted = t.saturated.Load(), t.unwanted.Load()
	return s
}
