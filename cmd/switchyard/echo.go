package main

import "github.com/switchyard-dev/switchyard/server"

// echoBody answers a request that reaches an echo route's HTTP handler — over HTTP/2, or
// over HTTP/1.1 when the route does not require an upgrade — with its body.
func echoBody(w *server.ResponseWriter, r *server.Request) {
	if ct := r.Get("Content-Type"); ct != nil {
		w.HeaderBytes("Content-Type", ct)
	} else {
		w.Header("Content-Type", "application/octet-stream")
	}
	_, _ = w.Write(r.Body)
}
