// Package h2cpeer is the x/net/http2 h2c server switchyard's HTTP/2 numbers are compared
// with: net/http plus golang.org/x/net/http2/h2c, serving the same two routes as
// `switchyard serve` over HTTP/2 (GET / answers a short text, POST /echo echoes the body),
// with both entries, the h2c upgrade and prior knowledge.
package h2cpeer

import (
	"io"
	"net"
	"net/http"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// RootText is what GET / answers, as long as switchyard's, so h2load compares like with like.
const RootText = "switchyard: HTTP/1.1 and HTTP/2 (h2c) here; WebSocket echo at /echo\n"

// Handler returns the peer's routes wrapped for h2c.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, RootText)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = io.Copy(w, r.Body)
	})
	return h2c.NewHandler(mux, &http2.Server{MaxConcurrentStreams: 100})
}

// Serve runs the peer on ln until it fails or ln is closed.
func Serve(ln net.Listener) error {
	return (&http.Server{Handler: Handler()}).Serve(ln)
}
