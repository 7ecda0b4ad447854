package http2

import (
	"bufio"
	"net/http"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// One Handler serves WebSockets over HTTP/1.1 and HTTP/2 alike: Authorize and ValueOf,
// subprotocols, permessage-deflate, a Hub whose broadcast reaches members of both
// transports, and the server's pings.
func TestExtendedConnectSameHandlerAPI(t *testing.T) {
	hub := websocket.NewHub()
	joined := make(chan struct{}, 4)
	s := wsServer(t, server.Config{}, Config{}, websocket.Handler{
		Subprotocols: []string{"chat.v2", "chat.v1"},
		Compression:  &ws.DeflateConfig{},
		PingInterval: 300 * time.Millisecond,
		Authorize: func(r *server.Request) (any, *server.Rejection) {
			return "user-" + string(r.Get("x-user")), nil
		},
		OnOpen: func(c *websocket.Conn) {
			v, _ := websocket.ValueOf[string](c)
			_ = c.Write(websocket.OpText, []byte(v+" "+c.Subprotocol()))
			hub.Add(c)
			joined <- struct{}{}
		},
		OnMessage: func(c *websocket.Conn, m websocket.Message) {
			_ = hub.Broadcast(websocket.NewPreparedMessage(websocket.OpText, m.Payload))
		},
	}, nil)

	// A member over HTTP/1.1.
	h1 := servertest.Dial(t, s.Addr())
	servertest.Write(t, h1, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-User: ann\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: chat.v1\r\n\r\n")
	h1br := bufio.NewReader(h1)
	if resp, err := http.ReadResponse(h1br, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("HTTP/1.1 upgrade: %v %v", resp, err)
	}
	if _, p := readWSFrame(t, h1br); string(p) != "user-ann chat.v1" {
		t.Fatalf("HTTP/1.1 OnOpen wrote %q", p)
	}
	// Two members over HTTP/2 streams of one connection.
	c := wsDial(t, s)
	st, resp, err := c.Connect("/ws", "x-user", "bob", "sec-websocket-protocol", "chat.v1, chat.v2",
		"sec-websocket-extensions", "permessage-deflate; client_max_window_bits")
	if err != nil || resp.Status != 200 {
		t.Fatalf("extended CONNECT: %v %v", resp, err)
	}
	if resp.Get("sec-websocket-protocol") != "chat.v1" || resp.Get("sec-websocket-extensions") == "" {
		t.Fatalf("200 fields: %v", resp.Fields)
	}
	_ = st.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(st)
	// The greeting is short, so it goes uncompressed.
	if _, p := readWSFrame(t, br); string(p) != "user-bob chat.v1" {
		t.Fatalf("HTTP/2 OnOpen wrote %q", p)
	}
	st2, br2 := wsConnect(t, c, "x-user", "cy")
	if _, p := readWSFrame(t, br2); string(p) != "user-cy " {
		t.Fatalf("HTTP/2 OnOpen wrote %q", p)
	}
	for range 3 {
		<-joined
	}
	// A broadcast from the HTTP/1.1 member reaches all three.
	_, _ = h1.Write(maskedFrame(ws.OpText, true, []byte("hi all")))
	for name, r := range map[string]*bufio.Reader{"h1": h1br, "h2 plain": br2} {
		if op, p := readWSFrame(t, r); op != ws.OpText || string(p) != "hi all" {
			t.Fatalf("%s got op %v %q", name, op, p)
		}
	}
	if op, _ := readWSFrame(t, br); op != ws.OpText {
		t.Fatalf("h2 deflate member got op %v", op)
	}
	// Silence: the server pings each stream (RFC 6455 §5.5.2), and a pong keeps it open.
	if op, _ := readWSFrame(t, br2); op != ws.OpPing {
		t.Fatalf("got op %v, want a ping", op)
	}
	_, _ = st2.Write(maskedFrame(ws.OpPong, true, nil))
	expectEcho2 := func() {
		_, _ = st2.Write(maskedFrame(ws.OpText, true, []byte("after the ping")))
		for {
			op, p := readWSFrame(t, br2)
			if op == ws.OpPing {
				continue
			}
			if string(p) != "after the ping" {
				t.Fatalf("got op %v %q", op, p)
			}
			return
		}
	}
	expectEcho2()
}
