package hostile

import (
	"bytes"
	"compress/flate"
	"fmt"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// deflateEcho sends one compressible 1 KiB text message, compressed, on a connection that
// negotiated permessage-deflate, and checks that the echo inflates back to it.
func deflateEcho(w *wsClient, i int) error {
	msg := bytes.Repeat(fmt.Appendf(nil, "connection %04d says hello; ", i), 64)[:1024]
	if err := w.send(ws.OpText, ws.RSV1, deflateMessage(msg, flate.BestSpeed)); err != nil {
		return err
	}
	f, err := w.readFrame(false)
	if err != nil {
		return fmt.Errorf("reading the echo: %w", err)
	}
	got := f.payload
	if f.rsv&ws.RSV1 != 0 {
		if got, err = inflateMessage(f.payload); err != nil {
			return fmt.Errorf("inflating the echo: %w", err)
		}
	}
	if f.op != ws.OpText || !bytes.Equal(got, msg) {
		return fmt.Errorf("echo: opcode %v, %d bytes, not the 1 KiB sent", f.op, len(got))
	}
	return nil
}

// Issue 14 item 5: 200 connections offer plain permessage-deflate (no parameters) to
// `switchyard serve` with its defaults, each echoes one compressible 1 KiB message and
// then stays open. The server must answer with server_no_context_takeover (a pooled
// compressor, nothing kept per connection between messages), and each connection may
// hold at most 64 KiB of RSS.
func TestWebSocketDeflateConnectionsHoldLittle(t *testing.T) {
	srv := startServer(t, "")
	// The warm-up echoes once with deflate, so that what every connection shares (the
	// pooled compressor and inflater) is in the baseline.
	s := besiege(t, srv, func() {
		if err := deflateEcho(dialWS(t, srv.addr, "/echo", "permessage-deflate"), 0); err != nil {
			t.Fatalf("warm-up: %v", err)
		}
	})
	const conns = 200
	var ext string
	var failed error
	rep := s.during(func() {
		for i := range conns {
			w, err := upgradeWS(dial(t, srv.addr), "/echo", "permessage-deflate")
			if err == nil {
				err = deflateEcho(w, i+1)
			}
			if err != nil {
				failed = fmt.Errorf("connection %d: %w", i+1, err)
				return
			}
			ext = w.Extensions
		}
	})
	if failed != nil {
		t.Fatal(failed)
	}
	t.Logf("the 101 said Sec-WebSocket-Extensions: %s", ext)
	if !containsToken(ext, "permessage-deflate") || !containsToken(ext, "server_no_context_takeover") {
		t.Errorf("a plain permessage-deflate offer was accepted with %q: without server_no_context_takeover "+
			"the server keeps a compressor (about 1.2 MB) per connection", ext)
	}
	perConn := rep.growth() / conns
	t.Logf("%d connections, each after one 1 KiB deflated echo: %.1f KiB of RSS each (bound 64 KiB)", conns, float64(perConn)/1024)
	rep.check(t, "200 permessage-deflate connections", 0)
	if perConn > 64<<10 {
		t.Errorf("each permessage-deflate connection holds %.1f KiB of RSS, over the bound of 64 KiB", float64(perConn)/1024)
	}
}
