// Package roomtest holds what the rooms' tests share: a WebSocket server whose clients
// drive a topics.Topics by commands, and a raw client.
package roomtest

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
	"github.com/switchyard-dev/switchyard/server/topics"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// Server serves /ws: a client's text message "sub T" subscribes it to T, "unsub T"
// unsubscribes it (both answered "ok"), "pub T payload" publishes payload to T for
// everyone but the sender. Closing unsubscribes from all. opened reports each member.
func Server(t *testing.T, tp *topics.Topics, h websocket.Handler) (*server.Server, chan *websocket.Conn, chan *websocket.Conn) {
	t.Helper()
	opened, left := make(chan *websocket.Conn, 64), make(chan *websocket.Conn, 64)
	h.OnOpen = func(c *websocket.Conn) { opened <- c }
	h.OnClose = func(c *websocket.Conn, _ websocket.StatusCode, _ string) { tp.UnsubscribeAll(c); left <- c }
	h.OnMessage = func(c *websocket.Conn, m websocket.Message) {
		cmd, rest, _ := strings.Cut(string(m.Payload), " ")
		switch cmd {
		case "sub":
			tp.Subscribe(rest, c)
			_ = c.Write(websocket.OpText, []byte("ok"))
		case "unsub":
			tp.Unsubscribe(rest, c)
			_ = c.Write(websocket.OpText, []byte("ok"))
		case "pub":
			topic, payload, _ := strings.Cut(rest, " ")
			_ = tp.Publish(topic, []byte(payload), topics.PublishOptions{Except: c})
		}
	}
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 2})
	srv.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(h)}})
	servertest.Start(t, srv)
	return srv, opened, left
}

// Client is a test's WebSocket client.
type Client struct {
	t    *testing.T
	Conn net.Conn
	br   *bufio.Reader
	W    *websocket.Conn // its server side
}

// Dial opens a member; opened is Server's channel.
func Dial(t *testing.T, srv *server.Server, opened chan *websocket.Conn) *Client {
	t.Helper()
	c := servertest.Dial(t, srv.Addr())
	br := bufio.NewReader(c)
	servertest.Write(t, c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	if resp, _ := servertest.ReadResponse(t, br, "GET"); resp.StatusCode != 101 {
		t.Fatalf("handshake: %d", resp.StatusCode)
	}
	cl := &Client{t: t, Conn: c, br: br}
	select {
	case cl.W = <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("member not opened")
	}
	return cl
}

// Send sends a text message.
func (cl *Client) Send(text string) {
	cl.t.Helper()
	if _, err := cl.Conn.Write(ws.AppendMaskedFrame(nil, true, ws.OpText, 0, [4]byte{1, 2, 3, 4}, []byte(text))); err != nil {
		cl.t.Fatal(err)
	}
}

// Do sends a command and waits for its "ok".
func (cl *Client) Do(cmd string) {
	cl.t.Helper()
	cl.Send(cmd)
	cl.Expect(ws.OpText, "ok")
}

// Next reads one frame.
func (cl *Client) Next() (ws.OpCode, []byte) {
	cl.t.Helper()
	_ = cl.Conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a fail-safe
	var hdr [10]byte
	if _, err := io.ReadFull(cl.br, hdr[:2]); err != nil {
		cl.t.Fatalf("reading a frame: %v", err)
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		io.ReadFull(cl.br, hdr[2:4])
		n = uint64(binary.BigEndian.Uint16(hdr[2:4]))
	case 127:
		io.ReadFull(cl.br, hdr[2:10])
		n = binary.BigEndian.Uint64(hdr[2:10])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(cl.br, p); err != nil {
		cl.t.Fatalf("reading a payload: %v", err)
	}
	return ws.OpCode(hdr[0] & 0x0f), p
}

// Expect reads one frame and checks it.
func (cl *Client) Expect(op ws.OpCode, payload string) {
	cl.t.Helper()
	if gotOp, got := cl.Next(); gotOp != op || string(got) != payload {
		cl.t.Fatalf("got %v %q, want %v %q", gotOp, got, op, payload)
	}
}
