package bench

import (
	"strings"
	"testing"
	"time"
)

func TestParseH1Response(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 5\r\n\r\nhello"
	cases := []struct {
		name   string
		in     string
		n      int
		status int
		err    bool
	}{
		{"a whole response with its Content-Length body (RFC 9112 §6.3)", ok, len(ok), 200, false},
		{"a response followed by the next one's head consumes only the first", ok + "HTTP/1.1 200", len(ok), 200, false},
		{"body not all there yet", ok[:len(ok)-1], 0, 0, false},
		{"head not all there yet", ok[:20], 0, 0, false},
		{"header names are case-insensitive (RFC 9110 §5.1)", "HTTP/1.1 404 Not Found\r\nCONTENT-LENGTH:0\r\n\r\n", 44, 404, false},
		{"204 has no body", "HTTP/1.1 204 No Content\r\n\r\n", 27, 204, false},
		{"chunked bodies are not read", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0, true},
		{"a 200 without a length cannot be delimited on keep-alive", "HTTP/1.1 200 OK\r\n\r\n", 0, 0, true},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 0, 0, true},
		{"a bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 0, true},
		{"a head that never ends", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxH1Head), 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, status, err := parseH1Response([]byte(c.in))
			if (err != nil) != c.err || n != c.n || status != c.status {
				t.Fatalf("got n=%d status=%d err=%v; want n=%d status=%d err=%v", n, status, err, c.n, c.status, c.err)
			}
		})
	}
}

func TestH2loadLatencies(t *testing.T) {
	log := "1700000000000000\t200\t150\n1700000000000100\t200\t250\n1700000000000200\t-1\t9999\n\nbad line\n"
	var h Histogram
	if n := h2loadLatencies([]byte(log), &h); n != 2 {
		t.Fatalf("%d latencies read, want the 2 of successful requests", n)
	}
	if got := h.Percentile(100); got != 250*time.Microsecond {
		t.Fatalf("largest latency %v, want 250µs (failed streams left out)", got)
	}
}
