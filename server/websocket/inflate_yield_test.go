package websocket

import (
	"bytes"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// Compressed messages that inflate past the turn's budget in one read make the
// connection yield (Stats.Yields) and are served after its loop's other work, each echoed
// whole and in order, with those of another connection sent in the same moment.
func TestInflateBudgetYieldsAndLosesNothing(t *testing.T) {
	srv := conformanceRoutes(t, Handler{Compression: &ws.DeflateConfig{}, OnMessage: func(c *Conn, m Message) { _ = c.Write(m.Op, m.Payload) }})
	const offer = "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n"
	big, other := dialClient(t, srv, offer), dialClient(t, srv, offer)
	deflater := func(c *client) *testDeflater {
		a, err := parseDeflateAnswer(c.ext)
		if err != nil {
			t.Fatal(err)
		}
		return newTestDeflater(a)
	}
	d := deflater(big)

	// Four messages of 512 KiB each (2 MiB inflated, twice the budget) in one write.
	var msgs [][]byte
	var burst []byte
	for i := range 4 {
		m := bytes.Repeat([]byte{'a' + byte(i)}, 512<<10)
		msgs = append(msgs, m)
		burst = append(burst, compressed(ws.OpBinary, d.compress(m))...)
	}
	before := srv.Stats().Yields
	if _, err := big.conn.Write(burst); err != nil {
		t.Fatal(err)
	}
	small := []byte("the other connection's message")
	if _, err := other.conn.Write(compressed(ws.OpText, deflater(other).compress(small))); err != nil {
		t.Fatal(err)
	}
	if err := other.expect(wantFrame{op: ws.OpText, payload: small}); err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		if err := big.expect(wantFrame{op: ws.OpBinary, payload: m}); err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
	}
	if got := srv.Stats().Yields - before; got < 1 {
		t.Fatalf("%d yields for 2 MiB inflated in one read, want at least 1", got)
	}
}
