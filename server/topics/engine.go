package topics

import "github.com/switchyard-dev/switchyard/server/websocket"

// Engine carries publishes between nodes. Publish and Interest are called from event
// loops and must not block: an engine hands work to its own goroutines and counts what
// it cannot take.
type Engine interface {
	// Start is called once, by New, with the way in for messages published on other
	// nodes. deliver may be called from any goroutine; its payload is only read during
	// the call.
	Start(deliver Deliver) error
	// Publish sends a message published on this node to the other nodes (this node's
	// members have had it already). payload is valid only during the call.
	Publish(topic string, op websocket.OpCode, payload []byte)
	// Interest says that this node's room for topic got its first member (on) or lost
	// its last one: from then on other nodes' publishes to it are wanted, or no longer.
	Interest(topic string, on bool)
	// Close stops the engine; Deliver is not called after it returns.
	Close() error
}

// Deliver hands a message published on another node to this node's room for topic.
type Deliver func(topic string, op websocket.OpCode, payload []byte)

// Local is the engine of a single node: rooms span this process only.
type Local struct{}

func (Local) Start(Deliver) error                      { return nil }
func (Local) Publish(string, websocket.OpCode, []byte) {}
func (Local) Interest(string, bool)                    {}
func (Local) Close() error                             { return nil }
