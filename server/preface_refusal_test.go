package server

import (
	"bufio"
	"log/slog"
	"strings"
	"testing"
)

// priorUpgrader is testUpgrader that a client may also start with a preface, as HTTP/2's is.
type priorUpgrader struct{ testUpgrader }

func (priorUpgrader) StartWithPreface(c *Conn) Protocol {
	return &testProtocol{token: "prior", closed: make(chan struct{})}
}

// On a server that takes a prior-knowledge preface, a first line that is no HTTP/1.x
// request line at all ends the connection unanswered (RFC 9113 §3.4: an HTTP/2 client
// would misread a 400 as a frame), and the debug log says why; a request line whose
// version is merely malformed ("http/1.1": RFC 9112 §2.3 makes the name case-sensitive)
// still gets its 400.
func TestFirstLineNeitherHTTP1NorPreface(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := startServer(t, Config{Logger: logger}, func(s *Server) {
		s.Upgrade(priorUpgrader{testUpgrader{"prior"}})
		s.Route("/", Route{HTTP: okHandler("plain")})
	})
	t.Run("lowercase version: 400", func(t *testing.T) {
		c := dial(t, s)
		write(t, c, "GET / http/1.1\r\nHost: x\r\n\r\n")
		if resp, _ := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 400 {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("no version at all: closed, and logged", func(t *testing.T) {
		c := dial(t, s)
		write(t, c, "HELLO THERE\r\n\r\n")
		expectClosed(t, bufio.NewReader(c))
		// The loop logs before it closes the connection.
		if !strings.Contains(logs.String(), "neither an HTTP/1.x request line nor the HTTP/2 preface") {
			t.Fatalf("no debug line for the closed connection:\n%s", logs.String())
		}
	})
}
