package websocket

import (
	"bytes"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/drive"
)

// driven is an upgraded connection of a server of its own, with the echo handler, driven
// without a socket (server/internal/drive): each Feed is one read, served exactly as the
// event loop serves it (Serve over the input, the output flushed, the input consumed or
// kept). Everything of the server's runs but gnet's own buffering.
type driven struct {
	d drive.Conn
	w *Conn
}

// newDriven upgrades a connection with a real opening handshake, offering
// permessage-deflate without client context takeover when compression is set (the route
// then answers server_no_context_takeover), and checks the 101.
func newDriven(tb testing.TB, compression bool) *driven {
	tb.Helper()
	h := Handler{OnMessage: func(c *Conn, m Message) { _ = c.Write(m.Op, m.Payload) }}
	req := handshake
	if compression {
		h.Compression = &ws.DeflateConfig{ServerNoContextTakeover: true}
		req += "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n"
	}
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 2})
	srv.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{New(h)}})
	d := drive.New(srv)
	d.Record(true)
	if d.Feed([]byte(req + "\r\n")) {
		tb.Fatalf("the upgrade closed the connection: %q", d.Output())
	}
	s, ok := d.Protocol().(*session)
	if !ok || !bytes.HasPrefix(d.Output(), []byte("HTTP/1.1 101 ")) || d.Buffered() != 0 {
		tb.Fatalf("no upgrade (protocol %T, %d bytes left): %q", d.Protocol(), d.Buffered(), d.Output())
	}
	w := (*Conn)(s)
	if compression != w.Compressed() {
		tb.Fatalf("permessage-deflate negotiated: %v, want %v (%q)", w.Compressed(), compression, d.Output())
	}
	d.Reset()
	d.Record(false)
	return &driven{d: d, w: w}
}

// roundTrip delivers in as one read (copied first: the server unmasks in place).
func (f *driven) roundTrip(in []byte) { f.d.Feed(in) }
