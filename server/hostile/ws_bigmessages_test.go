package hostile

import (
	"bytes"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// Issue 14, "must show": a WebSocket client sends 64 KiB messages to /echo and never
// reads the echoes (2,000 of them, 128 MiB). What the server queues for it is bounded by
// its send budget (and the route's overflow policy), what it reads by backpressure: RSS
// grows by at most 16 MiB.
func TestWebSocketBigMessagesToNonReader(t *testing.T) {
	srv := startServer(t, "")
	s := besiege(t, srv, nil)
	w, err := upgradeWS(dialNonReader(t, srv.addr), "/echo", "")
	if err != nil {
		t.Fatal(err)
	}
	const chunks = 2000
	msg := w.frame(nil, ws.OpBinary, 0, bytes.Repeat([]byte{'m'}, 64<<10))
	var f flooded
	rep := s.during(func() { f = flood(w.c, chunks, noDeadline, func(int) []byte { return msg }) })
	t.Logf("attack: %d messages of 64 KiB: %v", f.chunks, f)
	rep.check(t, "WebSocket 64 KiB messages, never read", 16<<20)
}
