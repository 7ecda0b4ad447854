package websocket_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	gws "github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// An authenticated room on a parameterised route: Authorize reads the session cookie,
// refuses without one (401 and a JSON body), and attaches the user, which every callback
// then reads with ValueOf. AuthorizeOffLoop lets it wait on a session store.
func ExampleHandler_authorize() {
	type user struct{ name, room string }
	sessions := map[string]string{"s3cr3t": "ann"} // a session store
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("GET /rooms/{id}", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{
		websocket.New(websocket.Handler{
			AuthorizeOffLoop: true,
			Authorize: func(r *server.Request) (any, *server.Rejection) {
				sid, _ := strings.CutPrefix(string(r.Get("Cookie")), "session=")
				name, ok := sessions[sid]
				if !ok {
					return nil, &server.Rejection{Status: 401, ContentType: "application/json",
						Reason: `{"error":"login required"}`}
				}
				return &user{name: name, room: string(r.PathValue("id"))}, nil
			},
			OnMessage: func(c *websocket.Conn, m websocket.Message) {
				u, _ := websocket.ValueOf[*user](c)
				_ = c.Write(m.Op, append([]byte(u.name+"@"+u.room+": "), m.Payload...))
			},
		})}})
	stop := serve(srv)
	defer stop()

	url := "ws://" + srv.Addr().String() + "/rooms/42"
	_, _, _, err := gws.Dial(context.Background(), url)
	fmt.Println("without a session:", err)
	d := gws.Dialer{Header: gws.HandshakeHeaderHTTP(http.Header{"Cookie": {"session=s3cr3t"}})}
	conn, _, _, err := d.Dial(context.Background(), url)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	_ = wsutil.WriteClientText(conn, []byte("hello"))
	reply, _ := wsutil.ReadServerText(conn)
	fmt.Println(string(reply))
	// Output:
	// without a session: unexpected HTTP response status: 401
	// ann@42: hello
}
