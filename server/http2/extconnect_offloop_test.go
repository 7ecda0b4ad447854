package http2

import (
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
	s := wsServer(t, server.Config{}, Config{}, websocket.Handler{
		AuthorizeOffLoop: true,
		Authorize: func(r *server.Request) (any, *server.Rejection) {
			user := string(r.Get("x-user"))
			if user == "slow" || user == "gone" {
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
	}, nil)
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
