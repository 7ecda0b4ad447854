// Command chatroom is a realtime backend on switchyard's public API: authenticated chat
// rooms on /rooms/{id} over WebSocket (everyone but the sender gets each message, as
// JSON) and, on the same path, a JSON endpoint counting the room's members on this node.
// With -nats, the rooms of every node using that NATS server are one.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"os"
	"os/signal"
	"strings"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/topics"
	"github.com/switchyard-dev/switchyard/server/topics/natstopics"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

var sessions = map[string]string{"ann-session": "ann", "bob-session": "bob"} // a session store

type user struct{ name, room string }

func newServer(addr, natsURL string) (*server.Server, error) {
	var engine topics.Engine = topics.Local{}
	if natsURL != "" {
		e, err := natstopics.New(natstopics.Config{URL: natsURL})
		if err != nil {
			return nil, err
		}
		engine = e
	}
	rooms, err := topics.New(engine)
	srv := server.New(server.Config{Addr: addr})
	srv.Route("GET /rooms/{id}", server.Route{
		HTTP: func(w *server.ResponseWriter, r *server.Request) { // no Upgrade: the room's head count
			w.Header("Content-Type", "application/json")
			id := string(r.PathValue("id"))
			_ = json.NewEncoder(w).Encode(map[string]any{"room": id, "members": rooms.Count(id)})
		},
		Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
			Authorize: func(r *server.Request) (any, *server.Rejection) { // before the 101
				if name, ok := sessions[strings.TrimPrefix(string(r.Get("Cookie")), "session=")]; ok {
					return &user{name: name, room: string(r.PathValue("id"))}, nil
				}
				return nil, &server.Rejection{Status: 401, ContentType: "application/json", Reason: `{"error":"no valid session cookie"}`}
			},
			OnOpen: func(c *websocket.Conn) { u, _ := websocket.ValueOf[*user](c); rooms.Subscribe(u.room, c) },
			OnMessage: func(c *websocket.Conn, m websocket.Message) {
				u, _ := websocket.ValueOf[*user](c)
				msg, _ := json.Marshal(map[string]string{"from": u.name, "text": string(m.Payload)})
				_ = rooms.Publish(u.room, msg, topics.PublishOptions{Except: c})
			},
			OnClose: func(c *websocket.Conn, _ websocket.StatusCode, _ string) { rooms.UnsubscribeAll(c) },
		})},
	})
	return srv, err
}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	natsURL := flag.String("nats", "", "NATS server URL: the rooms of every node using it are one")
	flag.Parse()
	srv, err := newServer(*addr, *natsURL)
	if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		err = srv.Serve(ctx)
	}
	if err != nil {
		log.Fatal(err)
	}
}
