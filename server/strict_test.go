package server

import (
	"bufio"
	"strings"
	"testing"
)

// Every strictness rule of RFC 9112 is answered with its status, a body naming the
// problem, and a closed connection: after a request that cannot be trusted, nothing that
// follows it on the connection can be (request smuggling lives here).
func TestStrictParsingAnswersAndCloses(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("", Route{HTTP: echoHandler}) })
	cases := []struct {
		name   string
		req    string
		status int
	}{
		{"Content-Length with Transfer-Encoding (RFC 9112 §6.1)", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"differing Content-Length values (RFC 9110 §8.6)", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
		{"malformed Content-Length (RFC 9110 §8.6)", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3x\r\n\r\nabc", 400},
		{"Transfer-Encoding not ending in chunked, unknown coding (RFC 9112 §6.1)", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n", 501},
		{"obs-fold (RFC 9112 §5.2)", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400},
		{"whitespace before colon (RFC 9112 §5.1)", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
		{"bare CR (RFC 9112 §2.2)", "GET / HTTP/1.1\r\nHost: x\rY\r\n\r\n", 400},
		{"bare LF (RFC 9112 §2.2)", "GET / HTTP/1.1\nHost: x\n\n", 400},
		{"NUL in a value (RFC 9110 §5.5)", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400},
		{"invalid token character in method (RFC 9110 §9.1)", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"invalid token character in field name (RFC 9110 §5.1)", "GET / HTTP/1.1\r\nHost: x\r\nX@A: 1\r\n\r\n", 400},
		{"missing Host on HTTP/1.1 (RFC 9112 §3.2)", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400},
		{"repeated Host (RFC 9112 §3.2)", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"HTTP/2.0 request line (RFC 9110 §15.6.6)", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
		{"HTTP/3.0 (RFC 9110 §15.6.6)", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505},
		{"request line too long (RFC 9112 §3)", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		{"header block too large (RFC 6585 §5)", "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 17000) + "\r\n\r\n", 431},
		{"too many header fields (RFC 6585 §5)", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: 1\r\n", 101) + "\r\n", 431},
		{"body larger than the limit (RFC 9110 §15.5.14)", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n", 413},
		{"chunk size overflow (RFC 9112 §7.1)", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", 400},
		{"empty chunk size (RFC 9112 §7.1)", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400},
		{"garbage request line (RFC 9112 §3)", "HELLO\r\n\r\n", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			br := bufio.NewReader(c)
			write(t, c, tc.req)
			resp, body := readResponse(t, br, "GET")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.status, body)
			}
			if !resp.Close {
				t.Fatalf("an error response must say Connection: close")
			}
			if len(strings.TrimSpace(body)) < 10 {
				t.Fatalf("the body should say why, got %q", body)
			}
			expectClosed(t, br)
		})
	}
}

// A smuggling attempt: the bytes after a rejected request must never be served.
func TestNothingAfterARejectedRequestIsServed(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("", Route{HTTP: echoHandler}) })
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 400 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	expectClosed(t, br)
}

// RFC 9110 §2.5: a higher minor version of a major version the server implements is
// processed as the highest minor version it speaks.
func TestHigherMinorVersionIsServedAsHTTP11(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("", Route{HTTP: echoHandler}) })
	c := dial(t, s)
	write(t, c, "GET /v HTTP/1.2\r\nHost: x\r\n\r\n")
	if resp, body := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 200 || body != "GET /v " {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}

func TestLenientBareLFOption(t *testing.T) {
	cfg := Config{}
	cfg.Limits.AllowBareLF = true
	s := startServer(t, cfg, func(s *Server) { s.Route("", Route{HTTP: echoHandler}) })
	c := dial(t, s)
	write(t, c, "GET /lf HTTP/1.1\nHost: x\n\n")
	if resp, body := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 200 || body != "GET /lf " {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}
