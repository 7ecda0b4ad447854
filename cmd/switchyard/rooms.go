package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchyard-dev/switchyard/server/admin"
	"github.com/switchyard-dev/switchyard/server/topics"
	"github.com/switchyard-dev/switchyard/server/topics/natstopics"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// natsEngine is the running NATS engine of `serve -nats`, for the admin metrics.
var natsEngine *natstopics.Engine

// startNATSRooms connects to cfg.NATS and sets cfg.rooms, the rooms every broadcast
// route then joins; stop prints the engine's counters and disconnects.
func startNATSRooms(cfg *serveConfig) (stop func(), err error) {
	e, err := natstopics.New(natstopics.Config{URL: cfg.NATS})
	if err != nil {
		return nil, fmt.Errorf("-nats: %w", err)
	}
	rooms, err := topics.New(e)
	if err != nil {
		_ = e.Close()
		return nil, fmt.Errorf("-nats: %w", err)
	}
	cfg.rooms, natsEngine = rooms, e
	fmt.Printf("switchyard broadcast rooms over NATS at %s\n", cfg.NATS)
	return func() {
		_ = rooms.Close()
		s, r := e.Stats(), rooms.Stats()
		fmt.Printf("switchyard NATS rooms: published %d, received %d, lost %d (queue %d, refused %d, gaps %d); "+
			"local deliveries missed by a loop behind: %d\n",
			s.Published, s.Received, s.Lost(), s.QueueDropped, s.Refused, s.Gaps, r.Saturated)
	}, nil
}

// roomOverNATS makes h a member of the room named path on every node: a message from a
// member goes to all members (the sender too, as on a room of one node).
func roomOverNATS(h *websocket.Handler, rooms *topics.Topics, path string) {
	h.OnOpen = func(c *websocket.Conn) { rooms.Subscribe(path, c) }
	h.OnClose = func(c *websocket.Conn, _ websocket.StatusCode, _ string) { rooms.UnsubscribeAll(c) }
	h.OnMessage = func(c *websocket.Conn, m websocket.Message) {
		_ = rooms.Publish(path, m.Payload, topics.PublishOptions{Binary: m.Op == websocket.OpBinary})
	}
}

// adminCollectors are the metrics beyond the servers' own: the rooms' when -nats is on.
func adminCollectors() []prometheus.Collector {
	if natsEngine == nil {
		return nil
	}
	return []prometheus.Collector{admin.NewRoomsCollector(natsEngine.Stats)}
}
