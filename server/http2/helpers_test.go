package http2

import (
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// discard is the tests' logger: refusals and connection errors are expected here.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// startServer runs a server with cfg on a loopback port, with two loops unless cfg says
// otherwise, for the test's duration; setup adds routes and upgraders.
func startServer(t testing.TB, cfg server.Config, setup func(*server.Server)) *server.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	s := server.New(cfg)
	setup(s)
	servertest.Start(t, s)
	return s
}

// dial opens a raw connection to s (see servertest.Dial).
func dial(t testing.TB, s *server.Server) net.Conn {
	t.Helper()
	return servertest.Dial(t, s.Addr())
}

func okHandler(body string) server.Handler {
	return func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/plain")
		_, _ = w.WriteString(body)
	}
}
