package http2

import (
	"bytes"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/websocket"
	"golang.org/x/net/http2"
)

// A slow WebSocket stream holds back only itself (RFC 9113 §5.2): a client that stops
// granting one stream's window gets no more on it, what the server sends meanwhile waits
// within that stream's send budget, and the other streams of the connection are served
// as usual; once the client grants the window again, every message arrives, in order.
func TestExtendedConnectSlowStreamHoldsOnlyItself(t *testing.T) {
	const msgs, size = 24, 64 << 10 // 1.5 MiB: past the 1 MiB window the client grants
	s := wsServer(t, server.Config{}, Config{}, websocket.Handler{
		SendBudget: 4 << 20,
		OnMessage: func(c *websocket.Conn, m websocket.Message) {
			if string(m.Payload) != "flood" {
				_ = c.Write(m.Op, m.Payload)
				return
			}
			for i := 0; i < msgs; i++ {
				_ = c.Write(websocket.OpBinary, bytes.Repeat([]byte{byte(i)}, size))
			}
		},
	}, nil)
	c := wsDial(t, s)
	slow, sbr := wsConnect(t, c)
	fast, fbr := wsConnect(t, c)
	slow.HoldWindow()
	if _, err := slow.Write(maskedFrame(ws.OpText, true, []byte("flood"))); err != nil {
		t.Fatal(err)
	}
	got := slow.WaitReceived(1 << 20) // the stream window the client announced, no more
	if got != 1<<20 {
		t.Fatalf("the server sent %d bytes on a stream whose window is 1 MiB", got)
	}
	for i := 0; i < 50; i++ {
		expectEcho(t, fast, fbr, bytes.Repeat([]byte("f"), 1000+i))
	}
	if n := slow.Received(); n != 1<<20 {
		t.Fatalf("the held stream got %d bytes beyond its window", n-1<<20)
	}
	for i := 0; i < msgs; i++ {
		_ = slow.Grant()
		op, p := readWSFrame(t, sbr)
		if op != ws.OpBinary || len(p) != size || p[0] != byte(i) || p[size-1] != byte(i) {
			t.Fatalf("message %d: op %v, %d bytes starting %d", i, op, len(p), p[0])
		}
	}
	expectEcho(t, slow, sbr, []byte("caught up"))
	if d := s.Stats().Dropped; d != 0 {
		t.Fatalf("%d messages dropped within the send budget", d)
	}
}

// A client that sends pings on a stream whose window it never grants cannot make the
// server queue pongs without bound: past the send budget the stream's input is no longer
// read (its window closes on the client), and once it has stayed stuck for IdleTimeout
// the stream is cancelled. The connection's other streams go on throughout.
func TestExtendedConnectPingFloodOnHeldStream(t *testing.T) {
	s := wsServer(t, server.Config{SendBudget: 64 << 10, IdleTimeout: time.Second}, Config{}, websocket.Handler{}, nil)
	c := wsDial(t, s)
	flood, _ := wsConnect(t, c)
	other, obr := wsConnect(t, c)
	flood.HoldWindow()
	ping := maskedFrame(ws.OpPing, true, bytes.Repeat([]byte("p"), 125))
	pings := bytes.Repeat(ping, 1000)
	go func() {
		for {
			if _, err := flood.Write(pings); err != nil {
				return // the stream was reset, or the test ended
			}
		}
	}()
	expectEcho(t, other, obr, []byte("beside the flood"))
	_, reset, code := flood.WaitEnd()
	if !reset || code != http2.ErrCodeCancel {
		t.Fatalf("reset %v %v; want RST_STREAM CANCEL", reset, code)
	}
	if got := flood.Received(); got > 1<<20 {
		t.Fatalf("%d bytes of pongs beyond the window", got-(1<<20))
	}
	if st := s.Stats(); st.Paused == 0 {
		t.Fatal("the stream was never paused")
	}
	expectEcho(t, other, obr, []byte("after the flood"))
}
