package natstopics

import (
	"slices"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// A receiver counts the sequence numbers a publishing node skipped as lost, drops what
// comes again or out of order, and keeps each publishing node apart.
func TestReceiverCountsGapsPerPublisher(t *testing.T) {
	e := &Engine{}
	e.node.Store(99)
	var delivered []uint64
	e.deliver = func(topic string, op websocket.OpCode, payload []byte) {
		delivered = append(delivered, uint64(payload[0]))
	}
	s := &subscription{e: e, topic: "room", last: map[uint64]uint64{}}
	msg := func(node, seq uint64) *nats.Msg {
		b := make([]byte, headerLen+1)
		putHeader(b, header{op: websocket.OpBinary, node: node, seq: seq})
		b[headerLen] = byte(seq)
		return &nats.Msg{Data: b}
	}
	for _, m := range []*nats.Msg{
		msg(1, 3), // the first seen from node 1: what came before is not this node's loss
		msg(1, 4),
		msg(2, 1),
		msg(1, 7), // 5 and 6 lost
		msg(1, 7), // again
		msg(1, 6), // late
		msg(2, 2),
		msg(99, 8),              // this node's own
		{Data: []byte("noise")}, // not ours
	} {
		s.handle(m)
	}
	if got := e.gaps.Load(); got != 2 {
		t.Errorf("gaps %d, want 2", got)
	}
	if got := e.duplicates.Load(); got != 2 {
		t.Errorf("duplicates %d, want 2", got)
	}
	if got := e.malformed.Load(); got != 1 {
		t.Errorf("malformed %d, want 1", got)
	}
	if want := []uint64{3, 4, 1, 7, 2}; !slices.Equal(delivered, want) {
		t.Fatalf("delivered %v, want %v", delivered, want)
	}
}
