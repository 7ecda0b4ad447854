package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// The README's embedding example: HTTP on /, a WebSocket chat room on /chat, HTTP/2 on
// every route. A program would Serve on ":8080" until SIGINT (signal.NotifyContext); here
// the server listens on a free port and a client asks for / once.
func Example() {
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/plain")
		_, _ = w.WriteString("hello\n") // the same handler serves HTTP/1.1 and HTTP/2
	}})
	room := websocket.NewHub()
	srv.Route("/chat", server.Route{
		RequireUpgrade: true, // plain HTTP/1.1 gets 426 Upgrade: websocket
		Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
			OnOpen:  room.Add,
			OnClose: func(c *websocket.Conn, code websocket.StatusCode, reason string) { room.Remove(c) },
			OnMessage: func(c *websocket.Conn, m websocket.Message) {
				room.Broadcast(websocket.NewPreparedMessage(m.Op, m.Payload)) // framed once
			},
		})},
	})
	srv.Upgrade(http2.New(http2.Config{})) // h2c upgrade and prior knowledge, every route

	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	fmt.Print(get(srv, "/"))
	fmt.Print(get(srv, "/chat"))
	stop() // graceful shutdown: WebSocket 1001, HTTP/2 GOAWAY, HTTP/1.1 Connection: close
	<-done
	// Output:
	// 200 hello
	// 426 426 Upgrade Required: this endpoint speaks websocket, but the request had no Upgrade header. …
}

// A protocol of your own, with the same contract the built-in ones use: an Upgrader that
// accepts "Upgrade: shout", and a Protocol that answers each line in capitals. The bytes
// the client sends right behind its upgrade request reach the new protocol.
func Example_customProtocol() {
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/shout", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{shoutUpgrader{}}})
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)

	c, _ := net.Dial("tcp", srv.Addr().String())
	_, _ = io.WriteString(c, "GET /shout HTTP/1.1\r\nHost: x\r\nUpgrade: shout\r\nConnection: upgrade\r\n\r\nhello\nbye\n")
	br := bufio.NewReader(c)
	status, _ := br.ReadString('\n')
	fmt.Println(strings.TrimSpace(status))
	for line, _ := br.ReadString('\n'); line != "\r\n"; line, _ = br.ReadString('\n') {
	}
	for range 2 {
		line, _ := br.ReadString('\n')
		fmt.Print(line)
	}
	c.Close()
	stop()
	<-done
	// Output:
	// HTTP/1.1 101 Switching Protocols
	// HELLO
	// BYE
}

type shoutUpgrader struct{}

func (shoutUpgrader) Token() string { return "shout" }

func (shoutUpgrader) Upgrade(c *server.Conn, r *server.Request, hdr []byte) (server.Protocol, []byte, *server.Rejection) {
	return shout{}, hdr, nil
}

// shout answers every whole line it receives in capitals. Its methods run on the
// connection's event loop and must not block.
type shout struct{}

func (shout) Start(c *server.Conn, r *server.Request) {}

func (shout) Serve(c *server.Conn, in []byte) (int, error) {
	used := 0
	for {
		i := strings.IndexByte(string(in[used:]), '\n')
		if i < 0 {
			return used, nil // a partial line waits for the next read
		}
		c.WriteString(strings.ToUpper(string(in[used : used+i+1])))
		used += i + 1
	}
}

func (shout) Timeout(c *server.Conn)           { c.Close() }
func (shout) Closed(c *server.Conn, err error) {}

// A route whose handler blocks (a database call, say) runs on the bounded worker pool,
// so the event loop keeps serving every other connection meanwhile. The connection reads
// no further request until the response is back, so responses stay in order.
func Example_workerPool() {
	srv := server.New(server.Config{Addr: "127.0.0.1:0", WorkerPoolSize: 64})
	srv.Route("/report", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
		time.Sleep(10 * time.Millisecond) // stands in for a slow query
		_, _ = w.WriteString("report ready\n")
	}})
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	fmt.Print(get(srv, "/report"))
	stop()
	<-done
	// Output:
	// 200 report ready
}

// serveInBackground serves srv until ctx ends; the channel closes when Serve returns.
func serveInBackground(ctx context.Context, srv *server.Server) <-chan struct{} {
	if err := srv.Listen(); err != nil {
		panic(err)
	}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	return done
}

// get asks for path over HTTP/1.1 and returns the status and the body's first line.
func get(srv *server.Server, path string) string {
	resp, err := http.Get("http://" + srv.Addr().String() + path)
	if err != nil {
		return err.Error() + "\n"
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	line, _, _ := strings.Cut(string(body), "\n")
	if len(line) > 100 {
		line = line[:strings.LastIndexByte(line[:100], '.')+1] + " …"
	}
	return fmt.Sprintf("%d %s\n", resp.StatusCode, line)
}
