package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// streamRoute is a worker-pool route whose handler writes "first", flushes, waits for the
// test to let it go on, then writes "second"; flushErr gets each Flush's result.
func streamRoute(status int, release <-chan struct{}, flushErr chan<- error) Route {
	return Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
		w.WriteHeader(status)
		w.Header("Content-Type", "text/event-stream")
		_, _ = w.WriteString("first")
		flushErr <- w.Flush()
		<-release
		_, _ = w.WriteString("second")
	}}
}

// TestStreamedResponseLeavesBeforeTheHandlerReturns reads the first part of a response
// while its handler still waits, and checks the framing of the whole against net/http's
// parser: chunked over HTTP/1.1 (the connection then serves its next request),
// close-delimited for HTTP/1.0, and the head alone for HEAD and 204.
func TestStreamedResponseLeavesBeforeTheHandlerReturns(t *testing.T) {
	cases := []struct {
		name, method, proto string
		status              int
		wantFirst, wantBody string
		chunked, closes     bool
	}{
		{"HTTP/1.1 chunked", "GET", "HTTP/1.1", 200, "first", "firstsecond", true, false},
		{"HTTP/1.0 close-delimited", "GET", "HTTP/1.0", 200, "first", "firstsecond", false, true},
		{"HEAD: the head only", "HEAD", "HTTP/1.1", 200, "", "", false, false},
		{"204: the head only", "GET", "HTTP/1.1", 204, "", "", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			release, flushErr := make(chan struct{}), make(chan error, 2)
			s := startServer(t, Config{}, func(s *Server) {
				s.Route("/events", streamRoute(tc.status, release, flushErr))
				s.Route("/next", Route{HTTP: okHandler("next")})
			})
			c := dial(t, s)
			write(t, c, tc.method+" /events "+tc.proto+"\r\nHost: x\r\n\r\n")
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, &http.Request{Method: tc.method})
			if err != nil {
				t.Fatal(err)
			}
			if err := <-flushErr; err != nil {
				t.Fatalf("Flush: %v", err)
			}
			if resp.StatusCode != tc.status || resp.ContentLength > 0 {
				t.Fatalf("status %d, Content-Length %d", resp.StatusCode, resp.ContentLength)
			}
			if got := len(resp.TransferEncoding) == 1 && resp.TransferEncoding[0] == "chunked"; got != tc.chunked {
				t.Fatalf("Transfer-Encoding %v, want chunked %v", resp.TransferEncoding, tc.chunked)
			}
			first := make([]byte, len(tc.wantFirst))
			if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != tc.wantFirst {
				t.Fatalf("first part %q (%v) before the handler went on", first, err)
			}
			close(release)
			rest, err := io.ReadAll(resp.Body)
			if err != nil || string(first)+string(rest) != tc.wantBody {
				t.Fatalf("body %q (%v), want %q", string(first)+string(rest), err, tc.wantBody)
			}
			if tc.closes {
				expectClosed(t, br)
				return
			}
			write(t, c, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
			if _, body := readResponse(t, br, "GET"); body != "next" {
				t.Fatalf("next response %q", body)
			}
		})
	}
}

// TestFlushOnTheLoopSaysWhy: a handler on the loop cannot wait for the client, so Flush
// tells it, and its response is sent whole as before.
func TestFlushOnTheLoopSaysWhy(t *testing.T) {
	flushed := make(chan error, 1)
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/", Route{HTTP: func(w *ResponseWriter, r *Request) {
			_, _ = w.WriteString("whole")
			flushed <- w.Flush()
		}})
	})
	c := dial(t, s)
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, body := readResponse(t, bufio.NewReader(c), "GET")
	if got := <-flushed; !errors.Is(got, ErrFlushOnLoop) || body != "whole" || resp.ContentLength != 5 {
		t.Fatalf("Flush: %v; body %q, Content-Length %d", got, body, resp.ContentLength)
	}
}

// TestStreamCutShort: a handler that panics after its head went, or sends no part within
// HandlerTimeout, ends the connection without the last chunk, so the client's parser
// reports the body cut short instead of a clean end; the handler's next Flush says the
// response is abandoned.
func TestStreamCutShort(t *testing.T) {
	cases := []struct {
		name    string
		timeout time.Duration
		// then runs after the first part; proceed closes once the client has seen the
		// response cut short.
		then func(w *ResponseWriter, proceed <-chan struct{}) error
	}{
		{"panic", 0, func(*ResponseWriter, <-chan struct{}) error { panic("after the head") }},
		{"HandlerTimeout", 200 * time.Millisecond, func(w *ResponseWriter, proceed <-chan struct{}) error {
			<-proceed // past HandlerTimeout, which cut the response
			_, _ = w.WriteString("late")
			return w.Flush()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			late, proceed := make(chan error, 1), make(chan struct{})
			s := startServer(t, Config{HandlerTimeout: tc.timeout}, func(s *Server) {
				s.Route("/", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
					_, _ = w.WriteString("part")
					if err := w.Flush(); err != nil {
						late <- err
						return
					}
					late <- tc.then(w, proceed)
				}})
			})
			c := dial(t, s)
			write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "GET"})
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			if string(body) != "part" || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("body %q, error %v: want the part, then the body cut short", body, err)
			}
			close(proceed)
			if tc.timeout > 0 {
				if err := <-late; !errors.Is(err, ErrAbandoned) {
					t.Fatalf("the late Flush returned %v, want ErrAbandoned", err)
				}
			}
		})
	}
}

// TestStreamWaitsForAClientThatDoesNotRead: a client that stops reading holds the
// streaming handler back (its Flush waits) instead of the server buffering what the
// handler writes; HandlerTimeout then ends the stream and the handler hears
// ErrAbandoned. Without the wait, the handler would write all 4 GiB into memory.
func TestStreamWaitsForAClientThatDoesNotRead(t *testing.T) {
	const part, parts = 64 << 10, 1 << 16
	var flushed atomic.Int64
	done := make(chan error, 1)
	s := startServer(t, Config{SendBudget: 64 << 10, HandlerTimeout: 300 * time.Millisecond}, func(s *Server) {
		s.Route("/", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
			chunk := strings.Repeat("x", part)
			for range parts {
				_, _ = w.WriteString(chunk)
				if err := w.Flush(); err != nil {
					done <- err
					return
				}
				flushed.Add(1)
			}
			done <- nil
		}})
	})
	c := dial(t, s)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10)
	}
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	err := <-done
	// The kernel's socket buffers take some parts (a few MiB on loopback); the server
	// holds at most its send budget beyond them.
	if !errors.Is(err, ErrAbandoned) || flushed.Load()*part > 64<<20 {
		t.Fatalf("handler ended with %v after %d parts (%d MiB) to a client that reads nothing",
			err, flushed.Load(), flushed.Load()*part>>20)
	}
}

// TestStreamToALateReaderArrivesWhole: a response larger than the kernel's socket
// buffers, to a client that reads nothing until the handler has had to wait (Stats.Paused),
// arrives whole and in order: the handler goes on each time the socket takes its backlog
// (BacklogEased).
func TestStreamToALateReaderArrivesWhole(t *testing.T) {
	const part, parts = 64 << 10, 256 // 16 MiB: more than loopback's socket buffers hold
	s := startServer(t, Config{SendBudget: 16 << 10}, func(s *Server) {
		s.Route("/", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
			for i := range parts {
				_, _ = w.WriteString(strings.Repeat(string(rune('a'+i%26)), part))
				if err := w.Flush(); err != nil {
					return
				}
			}
		}})
	})
	c := dial(t, s)
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	servertest.Eventually(t, "the handler waits for the client", func() bool { return s.Stats().Paused > 0 })
	_, body := readResponse(t, bufio.NewReader(c), "GET")
	if len(body) != part*parts {
		t.Fatalf("got %d bytes, want %d", len(body), part*parts)
	}
	for i := range parts {
		if body[i*part] != byte('a'+i%26) || body[(i+1)*part-1] != byte('a'+i%26) {
			t.Fatalf("part %d out of place", i)
		}
	}
}

// TestStreamClientGoneAbandonsTheHandler: an event stream whose client closes tells the
// handler at its next Flush, so a server-sent-events loop ends with its client.
func TestStreamClientGoneAbandonsTheHandler(t *testing.T) {
	done := make(chan error, 1)
	s := startServer(t, Config{HandlerTimeout: time.Hour}, func(s *Server) {
		s.Route("/", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
			for {
				_, _ = w.WriteString("data: tick\n\n")
				if err := w.Flush(); err != nil {
					done <- err
					return
				}
				time.Sleep(time.Millisecond)
			}
		}})
	})
	c := dial(t, s)
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "GET"}); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if err := <-done; !errors.Is(err, ErrAbandoned) {
		t.Fatalf("Flush after the client left: %v", err)
	}
}

// TestStreamedPartAllocationBudget: a part of a streamed response (a server-sent event)
// costs at most the loop task queue's node, measured over a socket with the client
// reading each part before the next.
func TestStreamedPartAllocationBudget(t *testing.T) {
	next, flushed := make(chan struct{}), make(chan error)
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
			for range next {
				_, _ = w.WriteString("data: x\n\n")
				flushed <- w.Flush()
			}
		}})
	})
	c := dial(t, s)
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	next <- struct{}{}
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if _, err := http.ReadResponse(br, &http.Request{Method: "GET"}); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, len("9\r\ndata: x\n\n\r\n"))
	if _, err := io.ReadFull(br, part); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(500, func() {
		next <- struct{}{}
		if err := <-flushed; err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(br, part); err != nil || string(part) != "9\r\ndata: x\n\n\r\n" {
			t.Fatalf("part %q (%v)", part, err)
		}
	})
	close(next)
	if allocs > 1 {
		t.Fatalf("%.1f allocations per part, want at most 1", allocs)
	}
}

// TestStreamEndsWithTheServer: a handler streaming as fast as its client reads, when the
// server stops at once (Shutdown with an expired context), returns: a part still queued
// for a loop that has stopped never runs, and its handler hears ErrAbandoned instead of
// waiting forever on the worker pool.
func TestStreamEndsWithTheServer(t *testing.T) {
	for range 20 {
		started, done := make(chan struct{}), make(chan error, 1)
		s := New(Config{Addr: "127.0.0.1:0", Loops: 1})
		s.Route("/", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
			close(started)
			for {
				_, _ = w.WriteString("data: x\n\n")
				if err := w.Flush(); err != nil {
					done <- err
					return
				}
			}
		}})
		_, sv := servertest.Start(t, s)
		c := dial(t, s)
		write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		go func() { _, _ = io.Copy(io.Discard, c) }()
		<-started
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = s.Shutdown(ctx)
		servertest.Wait(t, sv)
		select {
		case err := <-done:
			if !errors.Is(err, ErrAbandoned) {
				t.Fatalf("Flush after the server stopped: %v", err)
			}
		case <-time.After(10 * time.Second): // a fail-safe: the handler would wait forever
			t.Fatal("the streaming handler still waits after the server stopped")
		}
	}
}
