package http2

import (
	"bufio"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// A route with UseWorkerPool runs its handler on the worker pool over HTTP/2 too: while
// it blocks, the loop serves an unrelated client and the connection's other streams
// (before, the handler ran on the loop: a 1.5 s handler delayed a GET / on the same loop
// by 1.4 s, and 100 streams froze it for 100 times as long).
func TestWorkerPoolRouteDoesNotBlockTheLoop(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	s := startServer(t, server.Config{Loops: 1}, func(s *server.Server) {
		s.Route("/slow", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
			entered <- struct{}{}
			<-release
			_, _ = w.WriteString("slow " + string(r.Body))
		}})
		s.Route("/", server.Route{HTTP: okHandler("fast")})
		s.Upgrade(New(Config{}))
	})
	c := dial(t, s)
	cl := newH2Client(t, c, bufio.NewReader(c))
	cl.write(clientPreface())
	cl.write(cl.request(nil, 1, "POST", "/slow", []byte("body")))
	<-entered
	// The same connection's next stream is answered while stream 1's handler blocks.
	cl.write(cl.request(nil, 3, "GET", "/", nil))
	if r := cl.readUntil(3).streams[3]; r == nil || r.status != "200" || string(r.body) != "fast" {
		t.Fatalf("stream 3 while stream 1's handler blocks: %+v", r)
	}
	// So is another client of the same (only) loop.
	other := dial(t, s)
	servertest.Write(t, other, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := servertest.ReadResponse(t, bufio.NewReader(other), "GET"); body != "fast" {
		t.Fatalf("unrelated client: %q", body)
	}
	if r := cl.ev.streams[1]; r != nil && r.status != "" {
		t.Fatalf("stream 1 answered before its handler returned: %+v", r)
	}
	close(release)
	if r := cl.readUntil(1).streams[1]; r == nil || r.status != "200" || string(r.body) != "slow body" {
		t.Fatalf("stream 1: %+v", r)
	}
}
