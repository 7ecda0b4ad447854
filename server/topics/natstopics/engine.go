package natstopics

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/switchyard-dev/switchyard/server/topics"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// Engine is a topics.Engine over one NATS connection.
type Engine struct {
	cfg  Config
	nc   *nats.Conn
	node atomic.Uint64 // this node's id in the headers it writes

	// The publish queue: loops take a buffer from free, fill it and put it on queue; the
	// publishing goroutine sends it and gives it back. Both hold QueueMessages buffers,
	// so neither send blocks.
	free, queue chan *outMsg
	queuedBytes atomic.Int64

	mu      sync.Mutex      // guards changes
	changes map[string]bool // interest not yet applied by the publishing goroutine
	wake    chan struct{}   // capacity 1: changes has news

	// The publishing goroutine's own.
	subs     map[string]*subscription
	seq      map[string]uint64 // last sequence number sent, per topic
	subjects map[string]string // subject per topic, a cache

	deliverMu sync.RWMutex // held around deliver, so that none runs after Close
	deliver   topics.Deliver

	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	counters
}

type counters struct {
	published, queueDropped, refused                     atomic.Uint64
	received, gaps, duplicates, malformed                atomic.Uint64
	slowConsumer, disconnects, reconnects, subscribeErrs atomic.Uint64
}

type outMsg struct {
	topic string
	data  []byte // header (filled in by the publishing goroutine) + payload
}

// Bounds on the publishing goroutine's maps, which grow with the topics seen.
const (
	maxTopicState   = 1 << 16 // sequence numbers: past it the node takes a new id and starts over
	maxSubjectCache = 1 << 12
	maxPublishers   = 1 << 10 // publishing nodes remembered per subscribed topic
	keepBufferBelow = 64 << 10
)

// New connects to NATS (and keeps reconnecting, however long the server is away) and
// returns the engine to give topics.New.
func New(cfg Config) (*Engine, error) {
	if cfg.URL == "" {
		return nil, errors.New("natstopics: no NATS URL")
	}
	cfg = cfg.withDefaults()
	e := &Engine{
		cfg:      cfg,
		free:     make(chan *outMsg, cfg.QueueMessages),
		queue:    make(chan *outMsg, cfg.QueueMessages),
		changes:  make(map[string]bool),
		wake:     make(chan struct{}, 1),
		subs:     make(map[string]*subscription),
		seq:      make(map[string]uint64),
		subjects: make(map[string]string),
		done:     make(chan struct{}),
	}
	e.node.Store(newNodeID())
	for range cfg.QueueMessages {
		e.free <- &outMsg{}
	}
	nc, err := nats.Connect(cfg.URL,
		nats.Name(cfg.Name),
		nats.NoEcho(), // this node delivered its own publishes already
		nats.MaxReconnects(-1),
		nats.ReconnectWait(cfg.ReconnectWait),
		nats.ReconnectBufSize(cfg.ReconnectBuffer),
		nats.RetryOnFailedConnect(true), // serve locally until NATS is there
		nats.DisconnectErrHandler(func(*nats.Conn, error) { e.disconnects.Add(1) }),
		nats.ReconnectHandler(func(*nats.Conn) { e.reconnects.Add(1) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				e.slowConsumer.Add(1)
			}
		}),
	)
	if err != nil {
		return nil, err
	}
	e.nc = nc
	return e, nil
}

func newNodeID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return binary.BigEndian.Uint64(b[:])
}

// Start implements topics.Engine.
func (e *Engine) Start(deliver topics.Deliver) error {
	e.deliver = deliver
	e.wg.Add(1)
	go e.run()
	return nil
}

// Close stops publishing and receiving and closes the NATS connection; publishes still
// queued are dropped.
func (e *Engine) Close() error {
	e.once.Do(func() {
		close(e.done)
		e.wg.Wait()
		e.deliverMu.Lock()
		e.deliver = nil
		e.deliverMu.Unlock()
		e.nc.Close()
	})
	return nil
}

// Publish implements topics.Engine: it copies the message into a free buffer and queues
// it for the publishing goroutine, or counts it as dropped when the queue is full.
func (e *Engine) Publish(topic string, op websocket.OpCode, payload []byte) {
	n := int64(headerLen + len(payload))
	if e.queuedBytes.Add(n) > int64(e.cfg.QueueBytes) {
		e.queuedBytes.Add(-n)
		e.queueDropped.Add(1)
		return
	}
	var m *outMsg
	select {
	case m = <-e.free:
	default:
		e.queuedBytes.Add(-n)
		e.queueDropped.Add(1)
		return
	}
	m.topic = topic
	if cap(m.data) < int(n) {
		m.data = make([]byte, 0, max(int(n), 256)) // once per buffer: they are reused
	}
	m.data = append(m.data[:0], make([]byte, headerLen)...) // within capacity: no allocation
	m.data[1] = byte(op)
	m.data = append(m.data, payload...)
	e.queue <- m
}

// Interest implements topics.Engine: the publishing goroutine subscribes or unsubscribes.
func (e *Engine) Interest(topic string, on bool) {
	e.mu.Lock()
	e.changes[topic] = on
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// run is the publishing goroutine: the one sender of this node's messages, so NATS
// keeps their order.
func (e *Engine) run() {
	defer e.wg.Done()
	for {
		select {
		case m := <-e.queue:
			e.publish(m)
		case <-e.wake:
			e.applyInterest()
		case <-e.done:
			return
		}
	}
}

func (e *Engine) publish(m *outMsg) {
	n := int64(len(m.data))
	seq, known := e.seq[m.topic]
	if !known && len(e.seq) >= maxTopicState {
		// Forgetting sequence numbers under the same id would look like duplicates to
		// receivers; under a new id the node is a new publisher to them.
		clear(e.seq)
		e.node.Store(newNodeID())
	}
	seq++
	putHeader(m.data, header{op: websocket.OpCode(m.data[1]), node: e.node.Load(), seq: seq})
	// nats.go copies the message into its buffer (or, while reconnecting, into its
	// bounded reconnect buffer) before it returns.
	if err := e.nc.Publish(e.subject(m.topic), m.data); err != nil {
		e.refused.Add(1) // its number is not used: receivers see no gap for it
	} else {
		e.seq[m.topic] = seq
		e.published.Add(1)
	}
	e.queuedBytes.Add(-n)
	if cap(m.data) > keepBufferBelow {
		m.data = nil // a rare large message does not stay in the pool
	}
	m.topic = ""
	e.free <- m
}

func (e *Engine) subject(topic string) string {
	if s, ok := e.subjects[topic]; ok {
		return s
	}
	if len(e.subjects) >= maxSubjectCache {
		clear(e.subjects)
	}
	s := subject(e.cfg.Prefix, topic)
	e.subjects[topic] = s
	return s
}

// applyInterest subscribes to the topics that got local members and unsubscribes from
// those that lost them. nats.go resubscribes by itself after a reconnect.
func (e *Engine) applyInterest() {
	e.mu.Lock()
	changes := e.changes
	e.changes = make(map[string]bool)
	e.mu.Unlock()
	for topic, on := range changes {
		s := e.subs[topic]
		switch {
		case on && s == nil:
			s = &subscription{e: e, topic: topic, last: make(map[uint64]uint64)}
			sub, err := e.nc.Subscribe(e.subject(topic), s.handle)
			if err == nil {
				err = sub.SetPendingLimits(e.cfg.PendingMessages, e.cfg.PendingBytes)
			}
			if err != nil {
				e.subscribeErrs.Add(1)
				continue
			}
			s.sub = sub
			e.subs[topic] = s
		case !on && s != nil:
			_ = s.sub.Unsubscribe()
			delete(e.subs, topic)
		}
	}
}

// subscription is this node's interest in one topic. nats.go calls handle on one
// goroutine per subscription, one message at a time, so last needs no lock.
type subscription struct {
	e     *Engine
	topic string
	sub   *nats.Subscription
	last  map[uint64]uint64 // per publishing node, its last sequence number seen
}

func (s *subscription) handle(m *nats.Msg) {
	e := s.e
	h, payload, ok := parseHeader(m.Data)
	if !ok {
		e.malformed.Add(1)
		return
	}
	if h.node == e.node.Load() {
		return // our own, should NoEcho not hold
	}
	last, seen := s.last[h.node]
	switch {
	case seen && h.seq <= last:
		e.duplicates.Add(1)
		return
	case seen:
		e.gaps.Add(h.seq - last - 1)
	case len(s.last) >= maxPublishers:
		clear(s.last)
	}
	s.last[h.node] = h.seq
	e.received.Add(1)
	e.deliverMu.RLock()
	if e.deliver != nil {
		e.deliver(s.topic, h.op, payload) // queues on the loops; does not wait for them
	}
	e.deliverMu.RUnlock()
}

// Stats are an engine's counters since New.
type Stats struct {
	Published    uint64 // this node's messages handed to NATS
	QueueDropped uint64 // this node's messages dropped: the publish queue was full
	Refused      uint64 // this node's messages NATS refused (reconnect buffer full, too large, closed)
	Received     uint64 // other nodes' messages delivered to this node's rooms
	Gaps         uint64 // other nodes' messages that never arrived (sequence numbers skipped)
	Duplicates   uint64 // other nodes' messages arriving again or out of order (dropped)
	Malformed    uint64 // messages on the subjects that this format did not write
	SlowConsumer uint64 // times NATS dropped messages for this node for falling behind
	Disconnects  uint64
	Reconnects   uint64
	SubscribeErr uint64
	Connected    bool
}

// Lost is what this node counted as lost: its own messages it could not send, and
// other nodes' that never reached it.
func (s Stats) Lost() uint64 { return s.QueueDropped + s.Refused + s.Gaps }

// Stats reads the counters. Safe from any goroutine.
func (e *Engine) Stats() Stats {
	return Stats{
		Published: e.published.Load(), QueueDropped: e.queueDropped.Load(), Refused: e.refused.Load(),
		Received: e.received.Load(), Gaps: e.gaps.Load(), Duplicates: e.duplicates.Load(),
		Malformed: e.malformed.Load(), SlowConsumer: e.slowConsumer.Load(),
		Disconnects: e.disconnects.Load(), Reconnects: e.reconnects.Load(),
		SubscribeErr: e.subscribeErrs.Load(), Connected: e.nc.IsConnected(),
	}
}
