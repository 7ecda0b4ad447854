package websocket_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// A program that keeps its net/http server hands its WebSockets to switchyard's loops:
// net/http's handler for /echo calls Handoff, and from the 101 on the connection is
// switchyard's (its memory and CPU per connection), while net/http's goroutine returns.
func ExampleHandoff() {
	srv := server.New(server.Config{Addr: "127.0.0.1:0"}) // Serve needs a listener of its own
	srv.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{
		websocket.New(websocket.Handler{OnMessage: func(c *websocket.Conn, m websocket.Message) {
			_ = c.Write(m.Op, m.Payload)
		}}),
	}})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()

	mux := http.NewServeMux() // the program's own net/http server
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		if err := websocket.Handoff(srv, w, r); err != nil {
			log.Print(err)
		}
	})
	web := httptest.NewServer(mux)

	// A client: the handshake, and a message in the same write.
	c, _ := net.Dial("tcp", web.Listener.Addr().String())
	msg := ws.AppendMaskedFrame(nil, true, ws.OpText, 0, [4]byte{1, 2, 3, 4}, []byte("hi"))
	_, _ = c.Write(append([]byte("GET /echo HTTP/1.1\r\nHost: example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"), msg...))
	br := bufio.NewReader(c)
	resp, _ := http.ReadResponse(br, nil)
	fmt.Println(resp.Status)
	frame := make([]byte, 4)
	_, _ = io.ReadFull(br, frame)
	fmt.Printf("%q\n", frame[2:])

	c.Close()
	web.Close()
	stop()
	<-done
	// Output:
	// 101 Switching Protocols
	// "hi"
}
