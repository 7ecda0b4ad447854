package hostile

import (
	"bytes"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// Issue 14 item 2: a WebSocket client that never reads sends 300,000 masked pings of 125
// bytes (the largest control payload, RFC 6455 §5.5) to /echo. Every ping earns a pong
// (§5.5.2); the pongs must count against the connection's send budget like everything
// else, so the server stops reading the flood instead of queueing them: RSS grows by at
// most 16 MiB.
func TestWebSocketPingFloodFromNonReader(t *testing.T) {
	srv := startServer(t, "")
	s := besiege(t, srv, nil)
	w, err := upgradeWS(dialNonReader(t, srv.addr), "/echo", "")
	if err != nil {
		t.Fatal(err)
	}
	const perChunk, chunks = 1000, 300
	payload := bytes.Repeat([]byte{'p'}, ws.MaxControlPayload)
	var chunk []byte
	for range perChunk {
		chunk = w.frame(chunk, ws.OpPing, 0, payload)
	}
	var f flooded
	rep := s.during(func() { f = flood(w.c, chunks, noDeadline, func(int) []byte { return chunk }) })
	t.Logf("attack: %d pings of %d bytes: %v", f.chunks*perChunk, len(payload), f)
	rep.check(t, "WebSocket ping flood", 16<<20)
}
