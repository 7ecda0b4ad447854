package http2

import (
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
)

// A request body that does not arrive within BodyTimeout is answered 408, as over
// HTTP/1.1 (server.Config.BodyTimeout), and RST_STREAM NO_ERROR ends the client's side
// (RFC 9113 §8.1); the connection serves on. That holds while other streams keep the
// connection busy: HTTP/2 had one progress timer per connection, which they re-armed, so
// the stalled upload stayed open for as long as they came.
func TestH2StalledBodyIsAnswered408(t *testing.T) {
	cases := []struct {
		name string
		busy bool // a GET every 100 ms keeps the connection moving meanwhile
	}{
		{"alone", false},
		{"beside streams that keep the connection busy", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := h2Dial(t, server.Config{BodyTimeout: 300 * time.Millisecond}, Config{IdleTimeout: time.Minute})
			cl.write(h2.AppendHeaders(nil, 1, cl.headers(":method", "POST", ":scheme", "http", ":path", "/echo", ":authority", "x"), false, 0))
			done := make(chan *connEvents, 1)
			go func() { done <- cl.readUntil(1) }()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			guard := time.After(8 * time.Second) // only a hang meets it, before the socket's own 10 s deadline (servertest.Dial)
			id := uint32(3)
			var ev *connEvents
			for ev == nil {
				select {
				case ev = <-done:
				case <-guard:
					t.Fatal("the stalled upload was never answered")
				case <-tick.C:
					if tc.busy {
						cl.write(cl.request(nil, id, "GET", "/", nil))
						id += 2
					}
				}
			}
			r := ev.streams[1]
			if ev.goAway || ev.closed || r == nil || r.status != "408" {
				t.Fatalf("stream 1: %+v (GOAWAY %v, closed %v), want 408", r, ev.goAway, ev.closed)
			}
			// The RST_STREAM NO_ERROR that follows the response, then the connection
			// serves on.
			cl.write(cl.request(nil, id, "GET", "/", nil))
			ev = cl.readUntil(id)
			if r := ev.streams[1]; !r.isReset || r.rst != h2.ErrCodeNo {
				t.Fatalf("stream 1: %+v, want RST_STREAM NO_ERROR after the 408", r)
			}
			if r := ev.streams[id]; r == nil || r.status != "200" || ev.goAway {
				t.Fatalf("stream %d after the 408: %+v (GOAWAY %v), want 200", id, r, ev.goAway)
			}
		})
	}
}
