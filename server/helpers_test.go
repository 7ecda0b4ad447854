package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startServer runs a server on a loopback port for the test's duration.
func startServer(t testing.TB, cfg Config, setup func(*Server)) *Server {
	s, _, _ := runServer(t, cfg, setup)
	return s
}

// served is the outcome of a Serve call, once done is closed.
type served struct {
	done chan struct{}
	err  error
}

// runServer starts a server on a loopback port and lets the test end it: cancel is Serve's
// context (graceful shutdown), waitServed waits for Serve to return. Cleanup does both.
func runServer(t testing.TB, cfg Config, setup func(*Server)) (*Server, context.CancelFunc, *served) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	s := New(cfg)
	if setup != nil {
		setup(s)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sv := &served{done: make(chan struct{})}
	go func() { sv.err = s.Serve(ctx); close(sv.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-sv.done:
			if sv.err != nil {
				t.Errorf("Serve: %v", sv.err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
	})
	return s, cancel, sv
}

// waitServed waits for Serve to return without error.
func waitServed(t testing.TB, sv *served) {
	t.Helper()
	select {
	case <-sv.done:
		if sv.err != nil {
			t.Fatalf("Serve: %v", sv.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
}

// dial opens a raw connection to s with a generous deadline so a bug hangs no test.
func dial(t testing.TB, s *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func write(t testing.TB, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// readResponse reads one response with net/http's parser: an independent judge of our
// framing. The body is read in full.
func readResponse(t testing.TB, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	_ = resp.Body.Close()
	return resp, string(body)
}

// expectClosed asserts the server closes the connection (EOF or reset) without sending
// anything more.
func expectClosed(t testing.TB, br *bufio.Reader) {
	t.Helper()
	b, err := br.ReadByte()
	if err == nil {
		rest, _ := br.Peek(br.Buffered())
		t.Fatalf("expected the server to close, got more bytes: %q", append([]byte{b}, rest...))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("expected the server to close, the connection stayed open")
	}
}

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
	closed  chan struct{}
}

type testUpgrader struct{ token string }

func (u testUpgrader) Token() string { return u.token }

func (u testUpgrader) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	if string(r.Get("X-Refuse")) == "yes" {
		return nil, hdr, &Rejection{Status: 400, Header: "X-Why: test\r\n", Reason: "refused by the test upgrader"}
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
		return len(in), errCloseConn
	}
	c.WriteString(p.token + ":")
	c.Write(in)
	return len(in), nil
}

func (p *testProtocol) Timeout(c *Conn)           { c.Close() }
func (p *testProtocol) Closed(c *Conn, err error) { close(p.closed) }

// readN reads exactly n bytes.
func readN(t testing.TB, br *bufio.Reader, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		t.Fatalf("reading %d bytes: %v (got %q)", n, err, b)
	}
	return string(b)
}
