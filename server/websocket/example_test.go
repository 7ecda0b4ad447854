package websocket_test

import (
	"context"
	"fmt"
	"time"

	gws "github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// A broadcast room: every message a member sends goes to every member, framed once for
// all of them. Delivery runs on each member's event loop, one task per loop.
func ExampleHub() {
	room := websocket.NewHub()
	joined := make(chan struct{}, 2)
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/room", server.Route{Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnOpen:  func(c *websocket.Conn) { room.Add(c); joined <- struct{}{} },
		OnClose: func(c *websocket.Conn, _ websocket.StatusCode, _ string) { room.Remove(c) },
		OnMessage: func(c *websocket.Conn, m websocket.Message) {
			room.Broadcast(websocket.NewPreparedMessage(m.Op, m.Payload))
		},
	})}})
	stop := serve(srv)
	defer stop()

	alice, _, _, _ := gws.Dial(context.Background(), "ws://"+srv.Addr().String()+"/room")
	bob, _, _, _ := gws.Dial(context.Background(), "ws://"+srv.Addr().String()+"/room")
	defer alice.Close()
	defer bob.Close()
	<-joined
	<-joined
	fmt.Println("members:", room.Len())
	_ = wsutil.WriteClientText(alice, []byte("hello, room"))
	toAlice, _ := wsutil.ReadServerText(alice)
	toBob, _ := wsutil.ReadServerText(bob)
	fmt.Printf("alice got %q, bob got %q\n", toAlice, toBob)
	// Output:
	// members: 2
	// alice got "hello, room", bob got "hello, room"
}

// Sending from another goroutine (a ticker, a message queue's consumer): WriteAsync is
// safe anywhere, copies its payload, and goes out through the connection's event loop.
func ExampleConn_WriteAsync() {
	opened := make(chan *websocket.Conn, 1)
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/feed", server.Route{Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnOpen: func(c *websocket.Conn) { opened <- c },
	})}})
	stop := serve(srv)
	defer stop()

	client, _, _, _ := gws.Dial(context.Background(), "ws://"+srv.Addr().String()+"/feed")
	defer client.Close()
	conn := <-opened
	go func() { // not the event loop
		for i := 1; i <= 3; i++ {
			_ = conn.WriteAsync(websocket.OpText, fmt.Appendf(nil, "tick %d", i))
		}
	}()
	for range 3 {
		msg, _ := wsutil.ReadServerText(client)
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// tick 1
	// tick 2
	// tick 3
}

// serve runs srv until the returned func is called, which shuts it down gracefully.
func serve(srv *server.Server) (stop func()) {
	if err := srv.Listen(); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
}
