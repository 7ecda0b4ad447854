package server_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
)

// TestNetHTTPServerSentEvents: a net/http handler that flushes (http.Flusher) streams
// server-sent events: Go's client reads each event before the handler writes the next,
// over HTTP/1.1 and HTTP/2, and the handler's context ends when the client goes away.
func TestNetHTTPServerSentEvents(t *testing.T) {
	next := make(chan struct{})
	ended := make(chan error, 1)
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/events", server.NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for i := 0; ; i++ {
			if _, err := w.Write([]byte("data: " + string(rune('a'+i%26)) + "\n\n")); err != nil {
				ended <- err
				return
			}
			if err := rc.Flush(); err != nil {
				ended <- err
				return
			}
			select {
			case <-next:
			case <-r.Context().Done():
				ended <- r.Context().Err()
				return
			}
		}
	})))
	srv.Upgrade(http2.New(http2.Config{}))
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	defer func() { stop(); <-done }()

	for _, tc := range []struct {
		name   string
		client *http.Client
		major  int
	}{{"HTTP/1.1", &http.Client{Transport: &http.Transport{}}, 1}, {"HTTP/2", h2cClient(), 2}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.client.Timeout = 30 * time.Second // a fail-safe: a response that never streams fails the test
			reqCtx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(reqCtx, "GET", "http://"+srv.Addr().String()+"/events", nil)
			resp, err := tc.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.ProtoMajor != tc.major || resp.Header.Get("Content-Type") != "text/event-stream" || resp.ContentLength != -1 {
				t.Fatalf("%s %v, Content-Length %d", resp.Proto, resp.Header, resp.ContentLength)
			}
			br := bufio.NewReader(resp.Body)
			for i := range 3 {
				line, err := br.ReadString('\n')
				want := "data: " + string(rune('a'+i)) + "\n"
				if err != nil || line != want {
					t.Fatalf("event %d: %q (%v), want %q", i, line, err, want)
				}
				_, _ = br.ReadString('\n') // the blank line that ends the event
				if i < 2 {
					next <- struct{}{} // the handler writes the next event only now
				}
			}
			cancel()
			_ = resp.Body.Close()
			if err := <-ended; err == nil {
				t.Fatal("the handler ended without an error after its client left")
			}
		})
	}
}

// TestTrailersOverHTTP2: Go's HTTP/2 client gets a native handler's trailers and a
// net/http handler's, after the body.
func TestTrailersOverHTTP2(t *testing.T) {
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/native", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		_, _ = w.WriteString("data")
		w.Trailer("X-Sum", "42")
	}})
	srv.Route("/nethttp", server.NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		_, _ = w.Write([]byte("data"))
		w.Header().Set("X-Sum", "42")
	})))
	srv.Upgrade(http2.New(http2.Config{}))
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	defer func() { stop(); <-done }()
	for _, path := range []string{"/native", "/nethttp"} {
		resp, err := h2cClient().Get("http://" + srv.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || string(body) != "data" || resp.ProtoMajor != 2 || resp.Trailer.Get("X-Sum") != "42" {
			t.Fatalf("%s: %s %q (%v), trailers %v", path, resp.Proto, body, err, resp.Trailer)
		}
	}
}
