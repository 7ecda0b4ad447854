package server

import (
	"bufio"
	"net/http"
	"testing"
)

// TestTrailersFollowTheBody: trailer fields reach net/http's parser after the body, in a
// chunked response over HTTP/1.1 (a whole one or a streamed one, on the loop or the
// pool), and the connection serves its next request; an HTTP/1.0 client, HEAD and 204
// get none, and invalid or framing fields are dropped.
func TestTrailersFollowTheBody(t *testing.T) {
	handler := func(w *ResponseWriter, r *Request) {
		if string(r.Path) == "/204" {
			w.WriteHeader(204)
		}
		_, _ = w.WriteString("body")
		if string(r.Path) == "/stream" {
			_ = w.Flush()
			_, _ = w.WriteString("more")
		}
		w.Trailer("X-Checksum", "abc")
		w.Trailer("Content-Length", "9")    // framing: dropped
		w.Trailer("X-Split", "a\r\nX-B: c") // invalid: dropped
	}
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/", Route{HTTP: handler})
		s.Route("/stream", Route{HTTP: handler, UseWorkerPool: true})
		s.Route("/pool", Route{HTTP: handler, UseWorkerPool: true})
	})
	cases := []struct {
		name, request, method, body, trailer string
		chunked                              bool
	}{
		{"HTTP/1.1 on the loop", "GET / HTTP/1.1", "GET", "body", "abc", true},
		{"HTTP/1.1 on the pool", "GET /pool HTTP/1.1", "GET", "body", "abc", true},
		{"HTTP/1.1 streamed", "GET /stream HTTP/1.1", "GET", "bodymore", "abc", true},
		{"HTTP/1.0: none", "GET / HTTP/1.0\r\nConnection: keep-alive", "GET", "body", "", false},
		{"HEAD: none", "HEAD / HTTP/1.1", "HEAD", "", "", false},
		{"204: none", "GET /204 HTTP/1.1", "GET", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			br := bufio.NewReader(c)
			for range 2 { // the second response shows the first one's framing was right
				write(t, c, tc.request+"\r\nHost: x\r\n\r\n")
				resp, body := readResponse(t, br, tc.method)
				chunked := len(resp.TransferEncoding) > 0
				if body != tc.body || chunked != tc.chunked || resp.Trailer.Get("X-Checksum") != tc.trailer {
					t.Fatalf("body %q, chunked %v, trailers %v", body, chunked, resp.Trailer)
				}
				if len(resp.Trailer) > 1 || resp.Trailer.Get("X-B") != "" {
					t.Fatalf("an invalid trailer went out: %v", resp.Trailer)
				}
			}
		})
	}
}

// TestNetHTTPTrailers: a net/http handler's trailers, declared in its Trailer header or
// named with http.TrailerPrefix, reach Go's client.
func TestNetHTTPTrailers(t *testing.T) {
	_, base := netHTTPServer(t, func(s *Server) {
		s.Route("/", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Sum")
			_, _ = w.Write([]byte("data"))
			w.Header().Set("X-Sum", "42")
			w.Header().Set(http.TrailerPrefix+"X-Late", "yes")
		})))
	})
	resp, body := get(t, base+"/")
	if body != "data" || resp.Trailer.Get("X-Sum") != "42" || resp.Trailer.Get("X-Late") != "yes" {
		t.Fatalf("body %q, trailers %v", body, resp.Trailer)
	}
}
