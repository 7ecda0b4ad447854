package websocket

import (
	"testing"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
)

// TestWebSocketOverH2ResumesWhenTheParentsBacklogEases: a WebSocket on an HTTP/2 stream
// counts its parent socket's backlog in its send budget, so it stops reading when the
// two together pass the budget although the parent connection itself is under it. When
// the socket takes the parent's backlog, the child must read on then, not when a timer
// looks again: a driven connection has no wheel, so only that report can wake it.
func TestWebSocketOverH2ResumesWhenTheParentsBacklogEases(t *testing.T) {
	const budget = 1 << 20
	var got []string
	srv := server.New(server.Config{Addr: "127.0.0.1:0", SendBudget: budget})
	srv.Upgrade(http2.New(http2.Config{}))
	srv.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{New(Handler{
		SendBudget: 4 << 20,
		OnMessage: func(c *Conn, m Message) {
			got = append(got, string(m.Payload))
			if string(m.Payload) == "fill" { // more than the stream's 64 KiB window takes
				_ = c.Write(OpBinary, make([]byte, 300<<10))
			}
		}})}})
	// The stream windows stay at 65,535 bytes; the connection's is made large.
	d := openH2WebSocket(t, srv, h2.AppendWindowUpdate(h2.AppendSettings([]byte(h2.ClientPreface)), 0, 1<<30))
	send := func(text string) {
		t.Helper()
		frame := ws.AppendMaskedFrame(nil, true, ws.OpText, 0, [4]byte{1, 2, 3, 4}, []byte(text))
		if d.Feed(h2.AppendData(nil, 1, frame, false)) {
			t.Fatal("the server closed the connection")
		}
	}
	send("fill") // ~236 KiB of the reply wait in the stream for its window
	d.SetBacklog(budget - 100<<10)
	send("while behind")
	if len(got) != 1 {
		t.Fatalf("messages served while the stream and its socket held more than the budget: %q", got)
	}
	d.SetBacklog(0) // the socket took the parent's backlog; the stream's window is still shut
	if len(got) != 2 || got[1] != "while behind" {
		t.Fatalf("after the parent's backlog went: messages %q, want the second one served", got)
	}
}
