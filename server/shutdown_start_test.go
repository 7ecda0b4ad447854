package server

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// The loops accept as soon as they run, a moment before Serve marks the server running.
// A Shutdown in that moment once took the server for one that never started: it closed
// only the listener and returned, and the loops served on (a WebSocket in the shutdown
// test stayed open, with neither 1001 nor close). Shutdown now waits for Serve's start.
func TestShutdownDuringServesStartStopsTheLoops(t *testing.T) {
	s := New(Config{Addr: "127.0.0.1:0", Loops: 1})
	s.Route("/", Route{HTTP: func(w *ResponseWriter, r *Request) { _, _ = w.WriteString("x") }})
	serving, release := make(chan struct{}), make(chan struct{})
	s.beforeRunning = func() { close(serving); <-release }
	_, done := servertest.Start(t, s)
	<-serving

	c := servertest.Dial(t, s.Addr())
	br := bufio.NewReader(c)
	servertest.Write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	servertest.ReadResponse(t, br, "GET") // the loop serves; running is still open

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- s.Shutdown(ctx)
	}()
	// Shutdown sets draining and reads whether Serve is starting under mu: once both
	// are past, it must be waiting for the start, not done.
	servertest.Eventually(t, "Shutdown began", s.Draining)
	s.mu.Lock()
	s.mu.Unlock() //nolint:staticcheck // an empty critical section orders us after Shutdown's
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) while Serve was still starting the loops", err)
	default:
	}
	close(release)
	servertest.ExpectClosed(t, br) // the idle keep-alive connection is drained
	c.Close()                      // which the server's lingering close waits for
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	servertest.Wait(t, done)
	if n := s.Open(); n != 0 {
		t.Fatalf("%d connections open after Shutdown", n)
	}
	if err := s.Serve(context.Background()); err != ErrServerClosed {
		t.Fatalf("Serve after Shutdown: %v, want ErrServerClosed", err)
	}
}

// While a Shutdown without a deadline drains a connection that will not end (a request
// head in progress, under a long HeaderTimeout), Close, or a Shutdown whose ctx ends,
// ends the drain: the rest is closed and every caller returns, as under net/http (they
// waited for the first drain, forever here).
func TestCloseEndsARunningDrain(t *testing.T) {
	for _, second := range []string{"Close", "Shutdown with a deadline"} {
		t.Run(second, func(t *testing.T) {
			s := startServer(t, Config{HeaderTimeout: time.Hour}, func(s *Server) { s.Route("/", Route{HTTP: okHandler("hi")}) })
			c := dial(t, s)
			write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n") // the drain waits for the rest
			first := make(chan error, 1)
			go func() { first <- s.Shutdown(context.Background()) }()
			for !s.draining.Load() {
				time.Sleep(time.Millisecond)
			}
			done := make(chan error, 1)
			go func() {
				if second == "Close" {
					done <- s.Close()
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
				defer cancel()
				done <- s.Shutdown(ctx)
			}()
			guard := time.After(30 * time.Second) // only a hang meets it
			for _, ch := range []chan error{done, first} {
				select {
				case <-ch:
				case <-guard:
					t.Fatalf("%s did not end the drain: %d connections open", second, s.Open())
				}
			}
			if n := s.Open(); n != 0 {
				t.Fatalf("%d connections open after %s", n, second)
			}
		})
	}
}

// A server that listened but never served: Shutdown closes its listener (new clients are
// refused, not left in the backlog) and returns, and a later Serve says ErrServerClosed.
func TestShutdownBeforeServeClosesTheListener(t *testing.T) {
	s := New(Config{Addr: "127.0.0.1:0"})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		_ = c.Close()
		t.Fatal("the listener still accepts after Shutdown")
	}
	if err := s.Serve(context.Background()); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Shutdown: %v, want ErrServerClosed", err)
	}
}
