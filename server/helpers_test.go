package server

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// startServer runs a server on a loopback port for the test's duration.
func startServer(t testing.TB, cfg Config, setup func(*Server)) *Server {
	s, _, _ := runServer(t, cfg, setup)
	return s
}

// runServer starts a server on a loopback port (or cfg.Addr, if set) and lets the test
// end it: cancel is Serve's context (graceful shutdown). Cleanup does it too.
func runServer(t testing.TB, cfg Config, setup func(*Server)) (*Server, context.CancelFunc, *servertest.Served) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	s := New(cfg)
	if setup != nil {
		setup(s)
	}
	cancel, sv := servertest.Start(t, s)
	return s, cancel, sv
}

func dial(t testing.TB, s *Server) net.Conn { t.Helper(); return servertest.Dial(t, s.Addr()) }

var (
	write        = servertest.Write
	readResponse = servertest.ReadResponse
	expectClosed = servertest.ExpectClosed
	readN        = servertest.ReadN
)

func okHandler(body string) Handler {
	return func(w *ResponseWriter, r *Request) {
		w.Header("Content-Type", "text/plain")
		_, _ = w.WriteString(body)
	}
}

// echoHandler answers with the method, path and body it got.
func echoHandler(w *ResponseWriter, r *Request) {
	_, _ = w.WriteString(string(r.Method) + " " + string(r.Path) + " " + string(r.Body))
}

// testProtocol is a protocol only tests speak: it answers every byte it receives with the
// same byte behind the prefix "<token>:", proving which protocol got which bytes.
type testProtocol struct {
	token   string
	started bool
	drained bool
	closed  chan struct{}
}

type testUpgrader struct{ token string }

func (u testUpgrader) Token() string { return u.token }

func (u testUpgrader) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	switch string(r.Get("X-Refuse")) {
	case "yes":
		return nil, hdr, &Rejection{Status: 400, Header: "X-Why: test\r\n", Reason: "refused by the test upgrader"}
	case "426":
		return nil, hdr, &Rejection{Status: 426, Reason: "wants another version"}
	}
	if string(r.Get("X-Decline")) == "yes" {
		return nil, hdr, Decline
	}
	hdr = append(hdr, "X-Protocol: "+u.token+"\r\n"...)
	return &testProtocol{token: u.token, closed: make(chan struct{})}, hdr, nil
}

func (p *testProtocol) Start(c *Conn, r *Request) {
	p.started = true
	c.WriteString("[" + p.token + " started]")
}

func (p *testProtocol) Serve(c *Conn, in []byte) (int, error) {
	if strings.Contains(string(in), "QUIT") {
		c.WriteString("bye")
		return len(in), ErrClose
	}
	c.WriteString(p.token + ":")
	c.Write(in)
	return len(in), nil
}

func (p *testProtocol) Timeout(c *Conn)           { c.Close() }
func (p *testProtocol) Drain(c *Conn)             { p.drained = true; c.Close() }
func (p *testProtocol) Closed(c *Conn, err error) { close(p.closed) }
