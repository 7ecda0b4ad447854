package websocket

import (
	"bytes"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// WriteAsync and broadcasts compress a message on its own, so they may compress only for
// a connection whose server keeps no context (server_no_context_takeover, 15-bit window):
// there the client gets RSV1 frames that inflate to the message; with context takeover
// the same messages go uncompressed, since a message compressed apart would enter the
// client's window behind the connection's compressor (RFC 7692 §7.2.3.3, §7.2.1).
func TestWriteAsyncAndBroadcastCompressOnlyWithoutContext(t *testing.T) {
	hub := NewHub()
	opened := make(chan *Conn, 2)
	srv := conformanceRoutes(t, Handler{
		Compression: &ws.DeflateConfig{},
		OnOpen:      func(c *Conn) { hub.Add(c); opened <- c },
	})
	conn := func() *Conn {
		select {
		case c := <-opened:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("OnOpen never ran")
			return nil
		}
	}
	fresh := dialClient(t, srv, "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n")
	freshConn := conn()
	kept := dialClient(t, srv, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
	keptConn := conn()

	async, broadcast := wordsOf(4000, 1), wordsOf(3000, 2)
	for _, c := range []*Conn{freshConn, keptConn} {
		if err := c.WriteAsync(OpText, async); err != nil {
			t.Fatal(err)
		}
	}
	if err := hub.Broadcast(NewPreparedMessage(OpText, broadcast)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		c          *client
		compressed bool
	}{{"server_no_context_takeover", fresh, true}, {"context takeover", kept, false}} {
		for _, want := range [][]byte{async, broadcast} {
			f, err := readServerFrame(tc.c.br)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := f.rsv&ws.RSV1 != 0; got != tc.compressed {
				t.Fatalf("%s: a %d-byte message compressed: %v, want %v", tc.name, len(want), got, tc.compressed)
			}
			p := f.payload
			if tc.compressed {
				if p, err = tc.c.inf.inflate(p); err != nil {
					t.Fatalf("%s: inflating: %v", tc.name, err)
				}
				if len(f.payload) >= len(want)/2 {
					t.Errorf("%s: %d bytes compressed to %d", tc.name, len(want), len(f.payload))
				}
			}
			if f.op != ws.OpText || !bytes.Equal(p, want) {
				t.Fatalf("%s: got op %v, %d bytes, want the %d-byte message", tc.name, f.op, len(p), len(want))
			}
		}
	}
}
