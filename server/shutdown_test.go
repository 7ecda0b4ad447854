package server

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/frame/ws"
)

func TestShutdownDrainsEveryProtocol(t *testing.T) {
	release := make(chan struct{})
	s, cancel, done := runServer(t, Config{ShutdownTimeout: 5 * time.Second}, func(s *Server) {
		s.Route("/slow", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
			<-release
			_, _ = w.WriteString("finished")
		}})
		s.Route("/", Route{HTTP: okHandler("x")})
		s.Route("/ws", Route{RequireUpgrade: true, Upgraders: []Upgrader{WebSocket(WebSocketHandler{})}})
	})

	idle := dial(t, s)
	idleBr := bufio.NewReader(idle)
	write(t, idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	readResponse(t, idleBr, "GET")

	busy := dial(t, s)
	busyBr := bufio.NewReader(busy)
	write(t, busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")

	wsc, wsBr := upgradeWS(t, s, "", nil)
	time.Sleep(100 * time.Millisecond) // the slow request is in its handler

	cancel() // SIGTERM in `switchyard serve`

	// RFC 9112 §9.5: an idle keep-alive connection is simply closed.
	expectClosed(t, idleBr)
	// WebSocket: 1001 Going Away; the client answers and the server closes.
	op, p := readFrame(t, wsBr)
	if op != ws.OpClose || len(p) < 2 || ws.StatusCode(int(p[0])<<8|int(p[1])) != ws.StatusGoingAway {
		t.Fatalf("websocket got %v %x, want close 1001", op, p)
	}
	write(t, wsc, string(clientFrame(ws.OpClose, true, ws.AppendClose(nil, ws.StatusGoingAway, ""))))
	expectClosed(t, wsBr)
	// New connections are refused while draining.
	if c, err := net.DialTimeout("tcp", s.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Fatalf("the listener still accepts during shutdown")
	}
	// The request in flight finishes, with Connection: close.
	close(release)
	resp, body := readResponse(t, busyBr, "GET")
	if body != "finished" || !resp.Close {
		t.Fatalf("in-flight request: %q close=%v", body, resp.Close)
	}
	expectClosed(t, busyBr)
	waitServed(t, done)
}

func TestShutdownForcesWhatIsLeftAtTheDeadline(t *testing.T) {
	s, _, done := runServer(t, Config{}, func(s *Server) {
		s.Route("/ws", Route{RequireUpgrade: true, Upgraders: []Upgrader{WebSocket(WebSocketHandler{})}})
	})
	_, wsBr := upgradeWS(t, s, "", nil) // a client that never answers the close
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if op, _ := readFrame(t, wsBr); op != ws.OpClose {
		t.Fatalf("got %v, want the 1001 close first", op)
	}
	expectClosed(t, wsBr)
	waitServed(t, done)
	if n := s.Open(); n != 0 {
		t.Fatalf("%d connections still open", n)
	}
}

// HTTP/2: GOAWAY with the last stream id the server will serve (RFC 9113 §6.8), then close.
func TestShutdownSendsGoAway(t *testing.T) {
	s, cancel, done := runServer(t, Config{ShutdownTimeout: 5 * time.Second}, func(s *Server) {
		s.Route("/", Route{HTTP: okHandler("x")})
		s.EnableHTTP2(H2Config{})
	})
	c := dial(t, s)
	cl := newH2Client(t, c, bufio.NewReader(c))
	cl.write(clientPreface())
	cl.write(cl.request(nil, 1, "GET", "/", nil))
	if r := cl.readUntil(1).streams[1]; r == nil || r.status != "200" {
		t.Fatalf("stream 1 before shutdown: %+v", r)
	}
	cancel()
	for {
		f, ok := cl.readFrame()
		if !ok {
			t.Fatal("closed without GOAWAY")
		}
		if f.Type == h2.FrameGoAway {
			if f.LastStreamID() != 1 || f.ErrCode() != h2.ErrCodeNo {
				t.Fatalf("GOAWAY last=%d code=%v, want 1 NO_ERROR", f.LastStreamID(), f.ErrCode())
			}
			break
		}
	}
	expectClosed(t, cl.br)
	waitServed(t, done)
}
