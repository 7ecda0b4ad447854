package main

import (
	"context"
	"errors"
	"flag"
	"net/http"

	"github.com/centrifugal/centrifuge"
	"github.com/switchyard-dev/switchyard/bench/peers/natsbroker"
)

// natsURL is -nats: the NATS server the centrifuge peer's nodes share (ws-broadcast-2nodes).
var natsURL string

// The centrifuge peer registers itself here rather than in main.go's table: it is the
// only peer with a flag of its own, and only the two-node broadcast scenario runs it.
func init() {
	servers["centrifuge"] = serveCentrifuge
	flag.StringVar(&natsURL, "nats", "", "centrifuge: NATS URL of the broker the nodes share, e.g. nats://127.0.0.1:4222 (empty: the in-memory broker, one node)")
}

// centrifugeNATSPrefix is the subject prefix of the broker: every node of a run uses it,
// so a publication on one node reaches the subscribers of all.
const centrifugeNATSPrefix = "switchyard-bench"

// serveCentrifuge is a centrifuge node as its README sets one up: anonymous connections
// over its WebSocket transport at /connection/websocket (JSON or Protobuf protocol, the
// client's choice), any channel may be subscribed to, and a client's publish command is
// accepted and published through the broker (with -nats, bench/peers/natsbroker over
// NATS). That is the shape of switchyard's broadcast route: a message a client sends
// reaches every member of the room, on every node. No history, presence or join/leave: a
// plain room.
func serveCentrifuge(addr string) error {
	node, err := centrifuge.New(centrifuge.Config{LogLevel: centrifuge.LogLevelNone})
	if err != nil {
		return err
	}
	node.OnConnecting(func(context.Context, centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{UserID: ""}}, nil
	})
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
		c.OnPublish(func(_ centrifuge.PublishEvent, cb centrifuge.PublishCallback) {
			// An empty reply: centrifuge publishes the data itself (node.Publish, no
			// client info attached), then answers the publish command.
			cb(centrifuge.PublishReply{}, nil)
		})
	})
	if natsURL != "" {
		b, err := natsbroker.New(node, natsbroker.Config{Servers: natsURL, Prefix: centrifugeNATSPrefix})
		if err != nil {
			return err
		}
		node.SetBroker(b) // also its Controller: node-to-node control messages go over NATS
	}
	if err := node.Run(); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/connection/websocket", centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{
		CheckOrigin: func(*http.Request) bool { return true },
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(rootText)) })
	err = http.ListenAndServe(addr, mux)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
