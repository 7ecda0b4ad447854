package websocket

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/internal/h2ws"
)

// transport is one way of reaching a WebSocket endpoint: the conformance suite runs every
// case over each, so a WebSocket must behave the same whichever carries it.
type transport struct {
	name string
	// dial opens a WebSocket on s's /ws offering the handshake lines in extra
	// ("Name: value\r\n" each), and checks that the server accepted it.
	dial func(t *testing.T, s *server.Server, extra string) *client
}

var transports = []transport{
	{"http1.1 upgrade", dialClient},
	{"http2 extended CONNECT", dialClientH2},
}

// dialClientH2 opens an HTTP/2 connection with prior knowledge and a WebSocket on one of
// its streams (RFC 8441); the client's conn is the stream.
func dialClientH2(t *testing.T, s *server.Server, extra string) *client {
	t.Helper()
	hc, err := h2ws.Dial(s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hc.Close() })
	var fields []string
	for _, line := range strings.Split(extra, "\r\n") {
		if name, value, ok := strings.Cut(line, ":"); ok {
			fields = append(fields, strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value))
		}
	}
	st, resp, err := hc.Connect("/ws", fields...)
	if err != nil {
		t.Fatalf("extended CONNECT: %v", err)
	}
	if resp.Status != 200 {
		t.Fatalf("extended CONNECT: %d %v", resp.Status, resp.Fields)
	}
	_ = st.SetDeadline(time.Now().Add(10 * time.Second))
	c := &client{conn: st, br: bufio.NewReaderSize(st, 64<<10),
		ext: strings.Join(resp.Fields["sec-websocket-extensions"], ", ")}
	if c.ext != "" {
		p, err := parseDeflateAnswer(c.ext)
		if err != nil {
			t.Fatalf("200 sec-websocket-extensions %q: %v", c.ext, err)
		}
		c.inf = newTestInflater(p.serverBits, !p.serverNoCtx)
	}
	return c
}

// conformanceRoutes serves h on /ws for WebSocket upgrades only, over HTTP/1.1 and over
// HTTP/2 streams.
func conformanceRoutes(t *testing.T, h Handler) *server.Server {
	t.Helper()
	srv, _ := conformanceRoutesShutdown(t, h)
	return srv
}

// conformanceRoutesShutdown is conformanceRoutes with the func that shuts the server down
// gracefully (its connections are drained: RFC 6455 close 1001).
func conformanceRoutesShutdown(t *testing.T, h Handler) (*server.Server, context.CancelFunc) {
	t.Helper()
	srv, cancel, _ := runServer(t, server.Config{}, func(s *server.Server) {
		s.Upgrade(http2.New(http2.Config{}))
		s.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{New(h)}})
	})
	return srv, cancel
}
