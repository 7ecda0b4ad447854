package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
)

// TestHandlerPanicIsAnswered500: a handler that panics, on the loop or on the worker pool,
// over HTTP/1.1 or HTTP/2, gets its request a 500 and the connection serves on, as under
// net/http. On the loop the panic ended the process; on the pool the worker dropped the
// job, whose answer never came (over HTTP/2 the stream's concurrency slot with it).
func TestHandlerPanicIsAnswered500(t *testing.T) {
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	boom := func(w *server.ResponseWriter, r *server.Request) { panic("boom") }
	srv.Route("/loop", server.Route{HTTP: boom})
	srv.Route("/pool", server.Route{HTTP: boom, UseWorkerPool: true})
	srv.Route("/ok", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) { _, _ = w.WriteString("ok") }})
	srv.Upgrade(http2.New(http2.Config{MaxConcurrentStreams: 1}))
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	defer func() { stop(); <-done }()
	base := "http://" + srv.Addr().String()

	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
		if proto == "HTTP/2" {
			client = h2cClient()
		}
		for _, path := range []string{"/loop", "/pool"} {
			t.Run(proto+path, func(t *testing.T) {
				for range 3 { // more than MaxConcurrentStreams: each panic gives its slot back
					resp, err := client.Get(base + path)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 500 || !strings.Contains(string(body), "panicked") || resp.Proto[:6] != proto[:6] {
						t.Fatalf("%s %d %q, want 500 naming the panic", resp.Proto, resp.StatusCode, body)
					}
				}
				resp, err := client.Get(base + "/ok")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != "ok" {
					t.Fatalf("after the panics: %d %q", resp.StatusCode, body)
				}
			})
		}
	}
}
