package http2

import (
	"slices"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/websocket"
	"golang.org/x/net/http2"
)

// AuthorizeOffLoop over HTTP/2: Authorize runs on the worker pool while the stream waits
// unanswered (what the client sends on it meanwhile waits too) and the connection serves
// its other streams; then the 200 and the WebSocket, or the rejection. A stream reset
// meanwhile is dropped without a trace.
func TestExtendedConnectAuthorizeOffLoop(t *testing.T) {
	gate := make(chan struct{})
	opened := make(chan string, 4)
	s := gatedAuthServer(t, server.Config{}, gate, opened, nil, "slow", "gone")
	c := wsDial(t, s)
	slow, err := c.Connecting("/ws", "x-user", "slow")
	if err != nil {
		t.Fatal(err)
	}
	_ = slow.SetDeadline(time.Now().Add(20 * time.Second))
	// A frame right behind the CONNECT waits for the decision.
	if _, err := slow.Write(maskedFrame(ws.OpText, true, []byte("early"))); err != nil {
		t.Fatal(err)
	}
	gone, err := c.Connecting("/ws", "x-user", "gone")
	if err != nil {
		t.Fatal(err)
	}
	other, obr := wsConnect(t, c, "x-user", "ann")
	if v := <-opened; v != "ann" {
		t.Fatalf("OnOpen value %q", v)
	}
	expectEcho(t, other, obr, []byte("meanwhile"))
	if _, resp, err := c.Connect("/ws", "x-user", "mallory"); err != nil || resp.Status != 401 {
		t.Fatalf("rejected off the loop: %v %v", resp, err)
	}
	// The "gone" stream is reset while its decision is out; the echo behind the reset
	// shows the server has read it.
	_ = gone.Reset(http2.ErrCodeCancel)
	expectEcho(t, other, obr, []byte("after the reset"))
	close(gate)
	if resp, err := slow.Response(); err != nil || resp.Status != 200 {
		t.Fatalf("decided off the loop: %v %v", resp, err)
	}
	if v := <-opened; v != "slow" {
		t.Fatalf("OnOpen value %q, want slow (the reset stream never opens)", v)
	}
	br := bufioReaderOf(slow)
	if op, p := readWSFrame(t, br); op != ws.OpText || string(p) != "early" {
		t.Fatalf("the frame sent before the 200: op %v %q", op, p)
	}
	expectEcho(t, slow, br, []byte("late"))
	if n := s.Stats().OpenOnStreams["websocket"]; n != 2 {
		t.Fatalf("OpenOnStreams = %d, want 2", n)
	}
	select {
	case v := <-opened:
		t.Fatalf("an extra OnOpen (%q)", v)
	default:
	}
}

// An extended CONNECT whose upgrade is decided on the worker pool is bounded by
// HandlerTimeout, as an HTTP/1.1 upgrade decided there is: past it the stream gets 503,
// the late decision is dropped (no OnOpen), and the connection serves on.
func TestExtendedConnectDecisionOutlivesHandlerTimeout(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	opened := make(chan string, 4)
	s := gatedAuthServer(t, server.Config{HandlerTimeout: 300 * time.Millisecond}, gate, opened, func(s *server.Server) {
		// Decided on the loop: HandlerTimeout does not bound it.
		s.Route("/direct", server.Route{Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
			OnMessage: func(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) },
		})}})
	}, "slow")
	c := wsDial(t, s)
	slow, err := c.Connecting("/ws", "x-user", "slow")
	if err != nil {
		t.Fatal(err)
	}
	_ = slow.SetDeadline(time.Now().Add(20 * time.Second))
	if resp, err := slow.Response(); err != nil || resp.Status != 503 {
		t.Fatalf("a decision that outlived HandlerTimeout: %v %v, want 503", resp, err)
	}
	other, resp, err := c.Connect("/direct")
	if err != nil || resp.Status != 200 {
		t.Fatalf("the next stream: %v %v", resp, err)
	}
	_ = other.SetDeadline(time.Now().Add(20 * time.Second))
	expectEcho(t, other, bufioReaderOf(other), []byte("the connection serves on"))
	select {
	case v := <-opened:
		t.Fatalf("OnOpen for %q: the timed-out stream opened", v)
	default:
	}
}

// gatedAuthServer serves WebSockets over HTTP/2 (and HTTP/1.1) whose Authorize runs on
// the worker pool: the users named in waitFor wait for gate, "mallory" is refused 401
// and anyone else is let in; OnOpen reports the user on opened. setup, if not nil, adds
// routes.
func gatedAuthServer(t *testing.T, cfg server.Config, gate <-chan struct{}, opened chan<- string, setup func(*server.Server), waitFor ...string) *server.Server {
	return wsServer(t, cfg, Config{}, websocket.Handler{
		AuthorizeOffLoop: true,
		Authorize: func(r *server.Request) (any, *server.Rejection) {
			user := string(r.Get("x-user"))
			if slices.Contains(waitFor, user) {
				<-gate
			}
			if user == "mallory" {
				return nil, &server.Rejection{Status: 401, Reason: "who are you?"}
			}
			return user, nil
		},
		OnOpen: func(c *websocket.Conn) {
			v, _ := websocket.ValueOf[string](c)
			opened <- v
		},
	}, setup)
}
