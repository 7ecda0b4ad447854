package websocket_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	gws "github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// Callbacks that block (a database, another service) run on the server's worker pool
// with UseWorkerPool: each connection's in order, one at a time, its input paused
// meanwhile, while the event loop serves every other connection. Write from such a
// callback is WriteAsync.
func ExampleHandler_useWorkerPool() {
	lookup := func(key string) string { // a slow store
		time.Sleep(10 * time.Millisecond)
		return strings.ToUpper(key)
	}
	srv := server.New(server.Config{Addr: "127.0.0.1:0", WorkerPoolSize: 64})
	srv.Route("/lookup", server.Route{Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		UseWorkerPool: true,
		OnMessage: func(c *websocket.Conn, m websocket.Message) {
			key := string(m.Payload) // m.Payload is reused once OnMessage returns
			_ = c.Write(websocket.OpText, []byte(key+"="+lookup(key)))
		},
	})}})
	stop := serve(srv)
	defer stop()

	client, _, _, _ := gws.Dial(context.Background(), "ws://"+srv.Addr().String()+"/lookup")
	defer client.Close()
	for _, k := range []string{"a", "b", "c"} {
		_ = wsutil.WriteClientText(client, []byte(k))
	}
	for range 3 {
		msg, _ := wsutil.ReadServerText(client)
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// a=A
	// b=B
	// c=C
}
