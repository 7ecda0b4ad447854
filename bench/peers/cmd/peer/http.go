package main

import (
	"net/http"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// serveFasthttp answers GET / with fasthttp's defaults, which are its advice for speed.
func serveFasthttp(addr string) error {
	s := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("text/plain; charset=utf-8")
			ctx.SetBodyString(rootText)
		},
		Name: "fasthttp",
	}
	return s.ListenAndServe(addr)
}

func rootHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(rootText))
}

// serveNetHTTP answers GET / with the standard library's server; over TLS it speaks
// HTTP/2 too (ALPN h2), net/http's bundled HTTP/2 server.
func serveNetHTTP(addr string) error {
	if tlsFiles.on() {
		return http.ListenAndServeTLS(addr, tlsFiles.cert, tlsFiles.key, http.HandlerFunc(rootHandler))
	}
	return http.ListenAndServe(addr, http.HandlerFunc(rootHandler))
}

// serveH2C answers GET / over HTTP/1.1 and cleartext HTTP/2 (prior knowledge or Upgrade:
// h2c) with golang.org/x/net/http2's h2c handler.
func serveH2C(addr string) error {
	h := h2c.NewHandler(http.HandlerFunc(rootHandler), &http2.Server{MaxConcurrentStreams: 250})
	return http.ListenAndServe(addr, h)
}
