// Package servertest holds what the server's packages' tests share: starting a server on
// a loopback port for a test's duration, and raw-socket helpers to talk to it with bytes
// the test chooses. It does not import package server, so that package's own tests can
// use it too.
package servertest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// Server is what Start needs of a *server.Server.
type Server interface {
	Listen() error
	Serve(ctx context.Context) error
	Addr() net.Addr
}

// Served is the outcome of a Serve call, once Done is closed.
type Served struct {
	Done chan struct{}
	Err  error
}

// Start listens and serves s in the background; the returned cancel is Serve's context
// (graceful shutdown). Cleanup cancels and checks that Serve returned without error.
func Start(t testing.TB, s Server) (context.CancelFunc, *Served) {
	t.Helper()
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sv := &Served{Done: make(chan struct{})}
	go func() { sv.Err = s.Serve(ctx); close(sv.Done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-sv.Done:
			if sv.Err != nil {
				t.Errorf("Serve: %v", sv.Err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
	})
	return cancel, sv
}

// Wait waits for Serve to return without error.
func Wait(t testing.TB, sv *Served) {
	t.Helper()
	select {
	case <-sv.Done:
		if sv.Err != nil {
			t.Fatalf("Serve: %v", sv.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
}

// Dial opens a raw connection to addr (TCP, or a Unix-domain socket) with a generous
// deadline, so that a bug fails the test instead of hanging it.
func Dial(t testing.TB, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial(addr.Network(), addr.String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// UnixSocket returns a server address for a Unix-domain socket (Config.Addr's
// "unix:" form) whose file is in a directory of the test's own, and the file's path.
func UnixSocket(t testing.TB) (addr, path string) {
	path = filepath.Join(t.TempDir(), "s.sock")
	return "unix:" + path, path
}

// Write sends s.
func Write(t testing.TB, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// ReadResponse reads one response with net/http's parser, an independent judge of the
// server's framing, and its body in full.
func ReadResponse(t testing.TB, br *bufio.Reader, method string) (*http.Response, string) {
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

// ExpectClosed asserts that the server closes the connection (EOF or reset) without
// sending anything more.
func ExpectClosed(t testing.TB, br *bufio.Reader) {
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

// ReadN reads exactly n bytes.
func ReadN(t testing.TB, br *bufio.Reader, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		t.Fatalf("reading %d bytes: %v (got %q)", n, err, b)
	}
	return string(b)
}

// Eventually polls cond until it holds, failing the test after a generous fail-safe
// limit: it waits for goroutines or peers to settle and asserts no duration.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
