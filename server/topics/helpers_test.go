package topics_test

import (
	"sync"

	"github.com/switchyard-dev/switchyard/server/topics"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// recorder is an Engine that records what Topics asks of it.
type recorder struct {
	mu        sync.Mutex
	deliver   topics.Deliver
	interest  []string // "+topic" or "-topic"
	published []string // "topic op payload"
}

func (r *recorder) Start(d topics.Deliver) error { r.deliver = d; return nil }
func (r *recorder) Publish(topic string, op websocket.OpCode, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.published = append(r.published, topic+" "+string('0'+byte(op))+" "+string(payload))
}
func (r *recorder) Interest(topic string, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sign := "-"
	if on {
		sign = "+"
	}
	r.interest = append(r.interest, sign+topic)
}
func (r *recorder) Close() error { return nil }

func (r *recorder) seen() (interest, published []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.interest...), append([]string(nil), r.published...)
}
