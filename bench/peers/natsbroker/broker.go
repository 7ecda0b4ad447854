// Package natsbroker is a centrifuge Broker and Controller over NATS, for the bench's
// two-node broadcast (ws-broadcast-2nodes): centrifuge itself ships brokers for memory
// and Redis only. It carries what that scenario uses and no more: a publication's data
// (no history, no client info, no join or leave events) and the nodes' control messages.
package natsbroker

import (
	"sync"

	"github.com/centrifugal/centrifuge"
	"github.com/nats-io/nats.go"
)

// Config names the NATS server and the subjects' prefix.
type Config struct {
	Servers string // NATS URL(s), comma-separated
	Prefix  string // subjects are Prefix.pub.<channel>, Prefix.control, Prefix.node.<id>
}

// Broker publishes a node's publications on NATS and hands the ones of subscribed
// channels, from every node, to centrifuge.
type Broker struct {
	node   *centrifuge.Node
	cfg    Config
	nc     *nats.Conn
	events centrifuge.BrokerEventHandler

	mu   sync.Mutex
	subs map[string]*nats.Subscription
}

// New connects to NATS; reconnects never stop.
func New(node *centrifuge.Node, cfg Config) (*Broker, error) {
	nc, err := nats.Connect(cfg.Servers, nats.Name("centrifuge-bench-peer"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, err
	}
	return &Broker{node: node, cfg: cfg, nc: nc, subs: make(map[string]*nats.Subscription)}, nil
}

func (b *Broker) subject(ch string) string { return b.cfg.Prefix + ".pub." + ch }

// RegisterBrokerEventHandler is called by the node before any Subscribe.
func (b *Broker) RegisterBrokerEventHandler(h centrifuge.BrokerEventHandler) error {
	b.events = h
	return nil
}

// Subscribe starts delivering the channels' publications to the node.
func (b *Broker) Subscribe(channels ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range channels {
		if _, ok := b.subs[ch]; ok {
			continue
		}
		sub, err := b.nc.Subscribe(b.subject(ch), func(m *nats.Msg) {
			_ = b.events.HandlePublication(ch, &centrifuge.Publication{Data: m.Data}, centrifuge.StreamPosition{}, false, nil)
		})
		if err != nil {
			return err
		}
		b.subs[ch] = sub
	}
	return nil
}

// Unsubscribe stops the channels' deliveries.
func (b *Broker) Unsubscribe(channels ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range channels {
		if sub, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			if err := sub.Unsubscribe(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Publish sends data to every node subscribed to ch, this one included.
func (b *Broker) Publish(ch string, data []byte, _ centrifuge.PublishOptions) (centrifuge.PublishResult, error) {
	return centrifuge.PublishResult{}, b.nc.Publish(b.subject(ch), data)
}

// PublishJoin and PublishLeave: the bench uses no presence events.
func (b *Broker) PublishJoin(string, *centrifuge.ClientInfo) error  { return nil }
func (b *Broker) PublishLeave(string, *centrifuge.ClientInfo) error { return nil }

// History is not kept.
func (b *Broker) History(string, centrifuge.HistoryOptions) ([]*centrifuge.Publication, centrifuge.StreamPosition, error) {
	return nil, centrifuge.StreamPosition{}, centrifuge.ErrorNotAvailable
}

// RemoveHistory has nothing to remove.
func (b *Broker) RemoveHistory(string) error { return nil }

// RegisterControlEventHandler subscribes to the control messages for every node and for
// this one.
func (b *Broker) RegisterControlEventHandler(h centrifuge.ControlEventHandler) error {
	handle := func(m *nats.Msg) { _ = h.HandleControl(m.Data) }
	if _, err := b.nc.Subscribe(b.cfg.Prefix+".control", handle); err != nil {
		return err
	}
	_, err := b.nc.Subscribe(b.cfg.Prefix+".node."+b.node.ID(), handle)
	return err
}

// PublishControl sends a control message to one node (nodeID) or to all.
func (b *Broker) PublishControl(data []byte, nodeID, _ string) error {
	if nodeID != "" {
		return b.nc.Publish(b.cfg.Prefix+".node."+nodeID, data)
	}
	return b.nc.Publish(b.cfg.Prefix+".control", data)
}
