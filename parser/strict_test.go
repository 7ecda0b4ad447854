package parser

import (
	"strings"
	"testing"
)

// strictCases are requests the parser must refuse, each named after the rule
// and the RFC section it enforces. Inputs use "\n" for CRLF (see crlf) unless
// raw is set.
var strictCases = []struct {
	name   string
	in     string
	raw    bool // use in as is, without crlf
	limits Limits
	status int
}{
	// Message framing, request smuggling (RFC 9112 §6).
	{name: "Content-Length with Transfer-Encoding (RFC 9112 §6.1)", in: "POST / HTTP/1.1\nHost: a\nContent-Length: 3\nTransfer-Encoding: chunked\n\n", status: 400},
	{name: "Transfer-Encoding before Content-Length (RFC 9112 §6.3)", in: "POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nContent-Length: 3\n\n", status: 400},
	{name: "differing Content-Length lines (RFC 9110 §8.6)", in: "POST / HTTP/1.1\nHost: a\nContent-Length: 3\nContent-Length: 4\n\n", status: 400},
	{name: "differing Content-Length list (RFC 9110 §8.6)", in: "POST / HTTP/1.1\nHost: a\nContent-Length: 3, 4\n\n", status: 400},
	{name: "Content-Length with sign (RFC 9110 §8.6)", in: "POST / HTTP/1.1\nHost: a\nContent-Length: +3\n\n", status: 400},
	{name: "Content-Length negative (RFC 9110 §8.6)", in: "POST / HTTP/1.1\nHost: a\nContent-Length: -1\n\n", status: 400},
	{name: "Content-Length hex (RFC 9110 §8.6)", in: "POST / HTTP/1.1\nHost: a\nContent-Length: 0x10\n\n", status: 400},
	{name: "Content-Length empty (RFC 9110 §8.6)", in: "POST / HTTP/1.1\nHost: a\nContent-Length:\n\n", status: 400},
	{name: "Content-Length empty list element (RFC 9110 §8.6)", in: "POST / HTTP/1.1\nHost: a\nContent-Length: 3,\n\n", status: 400},
	{name: "Content-Length inner space (RFC 9110 §8.6)", in: "POST / HTTP/1.1\nHost: a\nContent-Length: 1 2\n\n", status: 400},
	{name: "Content-Length overflows int64 (RFC 9110 §8.6)", in: "POST / HTTP/1.1\nHost: a\nContent-Length: 9223372036854775808\n\n", status: 400},
	{name: "Content-Length above MaxBodyBytes (RFC 9110 §15.5.14)", in: "POST / HTTP/1.1\nHost: a\nContent-Length: 4194305\n\n", status: 413},
	{name: "Content-Length above configured MaxBodyBytes (RFC 9110 §15.5.14)", in: "POST / HTTP/1.1\nHost: a\nContent-Length: 11\n\n", limits: Limits{MaxBodyBytes: 10}, status: 413},
	{name: "Transfer-Encoding unknown coding (RFC 9112 §6.1)", in: "POST / HTTP/1.1\nHost: a\nTransfer-Encoding: gzip\n\n", status: 501},
	{name: "Transfer-Encoding unknown coding before chunked (RFC 9112 §6.1)", in: "POST / HTTP/1.1\nHost: a\nTransfer-Encoding: foo, chunked\n\n", status: 501},
	{name: "Transfer-Encoding chunked not last (RFC 9112 §6.3)", in: "POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked, gzip\n\n", status: 400},
	{name: "Transfer-Encoding chunked not last over lines (RFC 9112 §6.3)", in: "POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nTransfer-Encoding: identity\n\n", status: 400},
	{name: "Transfer-Encoding chunked twice (RFC 9112 §6.1)", in: "POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked, chunked\n\n", status: 400},
	{name: "Transfer-Encoding chunked with parameters (RFC 9112 §7)", in: "POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked;q=1\n\n", status: 400},
	{name: "Transfer-Encoding empty (RFC 9112 §6.1)", in: "POST / HTTP/1.1\nHost: a\nTransfer-Encoding: , \n\n", status: 400},
	{name: "Transfer-Encoding non-token coding (RFC 9112 §6.1)", in: "POST / HTTP/1.1\nHost: a\nTransfer-Encoding: \"chunked\"\n\n", status: 400},
	{name: "Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1)", in: "POST / HTTP/1.0\nTransfer-Encoding: chunked\n\n", status: 400},

	// Line framing (RFC 9112 §2.2).
	{name: "bare CR in field value (RFC 9112 §2.2)", in: "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", raw: true, status: 400},
	{name: "bare CR ending a field line (RFC 9112 §2.2)", in: "GET / HTTP/1.1\r\nHost: a\r\rX: y\r\n\r\n", raw: true, status: 400},
	{name: "bare CR in request-target (RFC 9112 §2.2)", in: "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", raw: true, status: 400},
	{name: "bare CR before the request-line (RFC 9112 §2.2)", in: "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", raw: true, status: 400},
	{name: "bare CR as the final line (RFC 9112 §2.2)", in: "GET / HTTP/1.1\r\nHost: a\r\n\rX", raw: true, status: 400},
	{name: "bare LF ending the request-line (RFC 9112 §2.2)", in: "GET / HTTP/1.1\nHost: a\r\n\r\n", raw: true, status: 400},
	{name: "bare LF ending a field line (RFC 9112 §2.2)", in: "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", raw: true, status: 400},
	{name: "bare LF as the final line (RFC 9112 §2.2)", in: "GET / HTTP/1.1\r\nHost: a\r\n\n", raw: true, status: 400},
	{name: "bare LF before the request-line (RFC 9112 §2.2)", in: "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", raw: true, status: 400},
	{name: "too many empty lines before the request-line (RFC 9112 §2.2)", in: "\n\n\n\n\nGET / HTTP/1.1\nHost: a\n\n", status: 400},

	// Field lines (RFC 9112 §5, RFC 9110 §5).
	{name: "obs-fold continuation line (RFC 9112 §5.2)", in: "GET / HTTP/1.1\nHost: a\nX: y\n z\n\n", status: 400},
	{name: "obs-fold with HTAB (RFC 9112 §5.2)", in: "GET / HTTP/1.1\nHost: a\nX: y\n\tz\n\n", status: 400},
	{name: "whitespace before the first field line (RFC 9112 §2.2)", in: "GET / HTTP/1.1\n Host: a\n\n", status: 400},
	{name: "whitespace between field name and colon (RFC 9112 §5.1)", in: "GET / HTTP/1.1\nHost : a\n\n", status: 400},
	{name: "HTAB between field name and colon (RFC 9112 §5.1)", in: "GET / HTTP/1.1\nHost\t: a\n\n", status: 400},
	{name: "empty field name (RFC 9110 §5.1)", in: "GET / HTTP/1.1\nHost: a\n: x\n\n", status: 400},
	{name: "field line without colon (RFC 9112 §5)", in: "GET / HTTP/1.1\nHost: a\nNoColon\n\n", status: 400},
	{name: "non-tchar in field name (RFC 9110 §5.6.2)", in: "GET / HTTP/1.1\nHost: a\nX(y): z\n\n", status: 400},
	{name: "non-ASCII in field name (RFC 9110 §5.6.2)", in: "GET / HTTP/1.1\nHost: a\nX\xc3\xa9: z\n\n", status: 400},
	{name: "NUL in field value (RFC 9110 §5.5)", in: "GET / HTTP/1.1\nHost: a\nX: a\x00b\n\n", status: 400},
	{name: "CTL in field value (RFC 9110 §5.5)", in: "GET / HTTP/1.1\nHost: a\nX: a\x01b\n\n", status: 400},
	{name: "CTL in long field value (RFC 9110 §5.5)", in: "GET / HTTP/1.1\nHost: a\nX: aaaaaaaaaaaaaaaaaaaaa\x1fbbbbbbbbbbbbbb\n\n", status: 400},
	{name: "DEL in field value (RFC 9110 §5.5)", in: "GET / HTTP/1.1\nHost: a\nX: aaaaaaaaaaaaaaaa\x7fb\n\n", status: 400},
	{name: "ESC in field value (RFC 9110 §5.5)", in: "GET / HTTP/1.1\nHost: a\nX: \x1b[31m\n\n", status: 400},
	{name: "too many header fields (RFC 6585 §5)", in: "GET / HTTP/1.1\nHost: a\nA: 1\nB: 2\nC: 3\n\n", limits: Limits{MaxHeaders: 3}, status: 431},
	{name: "header section over MaxHeaderBytes (RFC 6585 §5)", in: "GET / HTTP/1.1\nHost: a\nX: " + strings.Repeat("y", 100) + "\n\n", limits: Limits{MaxHeaderBytes: 64}, status: 431},
	{name: "default 100 header fields exceeded (RFC 6585 §5)", in: "GET / HTTP/1.1\nHost: a\n" + strings.Repeat("X: y\n", 100) + "\n", status: 431},

	// Host (RFC 9112 §3.2).
	{name: "missing Host in HTTP/1.1 (RFC 9112 §3.2)", in: "GET / HTTP/1.1\nX: y\n\n", status: 400},
	{name: "repeated Host (RFC 9112 §3.2)", in: "GET / HTTP/1.1\nHost: a\nHost: a\n\n", status: 400},
	{name: "repeated Host in HTTP/1.0 (RFC 9112 §3.2)", in: "GET / HTTP/1.0\nHost: a\nhost: b\n\n", status: 400},
	{name: "Host with userinfo (RFC 9110 §7.2)", in: "GET / HTTP/1.1\nHost: u@a\n\n", status: 400},
	{name: "Host with path (RFC 9110 §7.2)", in: "GET / HTTP/1.1\nHost: a/b\n\n", status: 400},
	{name: "Host with non-digit port (RFC 9110 §7.2)", in: "GET / HTTP/1.1\nHost: a:8x\n\n", status: 400},
	{name: "Host with two colons (RFC 9110 §7.2)", in: "GET / HTTP/1.1\nHost: a:1:2\n\n", status: 400},
	{name: "Host with unclosed IP-literal (RFC 3986 §3.2.2)", in: "GET / HTTP/1.1\nHost: [::1\n\n", status: 400},
	{name: "Host with space inside (RFC 9110 §7.2)", in: "GET / HTTP/1.1\nHost: a b\n\n", status: 400},

	// Request-line (RFC 9112 §3).
	{name: "empty method (RFC 9112 §3)", in: " / HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "non-tchar in method (RFC 9110 §9.1)", in: "GE(T / HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "HTAB instead of SP (RFC 9112 §3)", in: "GET\t/ HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "two spaces after method (RFC 9112 §3)", in: "GET  / HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "two spaces before version (RFC 9112 §3)", in: "GET /  HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "trailing space after version (RFC 9112 §3)", in: "GET / HTTP/1.1 \nHost: a\n\n", status: 400},
	{name: "missing version, HTTP/0.9 style (RFC 9112 §3)", in: "GET /\nHost: a\n\n", status: 400},
	{name: "space inside request-target (RFC 9112 §3.2)", in: "GET /a b HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "CTL in request-target (RFC 9112 §3.2)", in: "GET /a\x01b HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "non-ASCII in request-target (RFC 3986 §2)", in: "GET /caf\xc3\xa9 HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "fragment in request-target (RFC 9112 §3.2)", in: "GET /a#frag HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "relative request-target (RFC 9112 §3.2)", in: "GET a/b HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "asterisk-form with GET (RFC 9112 §3.2.4)", in: "GET * HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "authority-form without CONNECT (RFC 9112 §3.2.3)", in: "GET example.com:443 HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "CONNECT with origin-form (RFC 9112 §3.2.3)", in: "CONNECT / HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "CONNECT without port (RFC 9112 §3.2.3)", in: "CONNECT example.com HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "absolute-form without authority (RFC 9110 §4.2.1)", in: "GET http:/x HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "absolute-form with empty host (RFC 9110 §4.2.1)", in: "GET http:///x HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "absolute-form with userinfo (RFC 9110 §4.2.4)", in: "GET http://u:p@a/x HTTP/1.1\nHost: a\n\n", status: 400},
	{name: "lower-case HTTP name (RFC 9112 §2.3)", in: "GET / http/1.1\nHost: a\n\n", status: 400},
	{name: "two-digit minor version (RFC 9112 §2.3)", in: "GET / HTTP/1.10\nHost: a\n\n", status: 400},
	{name: "version without minor (RFC 9112 §2.3)", in: "GET / HTTP/1\nHost: a\n\n", status: 400},
	{name: "HTTP/2.0 over HTTP/1 framing (RFC 9110 §15.6.6)", in: "GET / HTTP/2.0\nHost: a\n\n", status: 505},
	{name: "HTTP/0.9 version (RFC 9110 §15.6.6)", in: "GET / HTTP/0.9\nHost: a\n\n", status: 505},
	{name: "HTTP/3.0 version (RFC 9110 §15.6.6)", in: "GET / HTTP/3.0\nHost: a\n\n", status: 505},
	{name: "request-line over MaxRequestLine (RFC 9112 §3)", in: "GET /" + strings.Repeat("a", 8192) + " HTTP/1.1\nHost: a\n\n", status: 414},
	{name: "request-line over configured MaxRequestLine (RFC 9112 §3)", in: "GET /abcdefgh HTTP/1.1\nHost: a\n\n", limits: Limits{MaxRequestLine: 16}, status: 414},
}

func strictBytes(in string, raw bool) []byte {
	if raw {
		return []byte(in)
	}
	return crlf(in)
}

func TestParseStrict(t *testing.T) {
	for _, tc := range strictCases {
		t.Run(tc.name, func(t *testing.T) {
			p := Parser{Limits: tc.limits}
			var req Request
			n, err := p.Parse(strictBytes(tc.in, tc.raw), &req)
			if got := statusOf(err); got != tc.status {
				t.Fatalf("Parse = (%d, %v), want status %d", n, err, tc.status)
			}
			if n != 0 {
				t.Errorf("n = %d on error, want 0", n)
			}
		})
	}
}

// Limits are boundaries, not approximations: a request exactly at a limit
// passes, one byte (or field) more fails.
func TestParseLimitBoundaries(t *testing.T) {
	line := "GET /abcdefgh HTTP/1.1"   // 22 bytes
	head := "Host: a\r\nX: yy\r\n\r\n" // 18 bytes
	cases := []struct {
		name   string
		limits Limits
		status int
	}{
		{"request-line exactly MaxRequestLine (RFC 9112 §3)", Limits{MaxRequestLine: 22}, 0},
		{"request-line one over MaxRequestLine (RFC 9112 §3)", Limits{MaxRequestLine: 21}, 414},
		{"header section exactly MaxHeaderBytes (RFC 6585 §5)", Limits{MaxHeaderBytes: 18}, 0},
		{"header section one over MaxHeaderBytes (RFC 6585 §5)", Limits{MaxHeaderBytes: 17}, 431},
		{"fields exactly MaxHeaders (RFC 6585 §5)", Limits{MaxHeaders: 2}, 0},
		{"fields one over MaxHeaders (RFC 6585 §5)", Limits{MaxHeaders: 1}, 431},
	}
	in := []byte(line + "\r\n" + head)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k := 1; k <= len(in); k++ { // whole and split must agree
				p := Parser{Limits: tc.limits}
				var req Request
				_, err := p.Parse(in[:k], &req)
				if err == ErrIncomplete && k < len(in) {
					_, err = p.Parse(in, &req)
				}
				if got := statusOf(err); got != tc.status {
					t.Fatalf("split at %d: err = %v, want status %d", k, err, tc.status)
				}
			}
		})
	}
}

// RFC 9112 §3 and RFC 6585 §5 limits are answered while the head is still
// arriving: the server must not buffer an endless line waiting for its end.
func TestParseLimitsBeforeHeadEnds(t *testing.T) {
	cases := []struct {
		name   string
		in     []byte
		status int
	}{
		{"endless request-line gets 414 (RFC 9112 §3)", []byte("GET /" + strings.Repeat("a", 9000)), 414},
		{"endless field value gets 431 (RFC 6585 §5)", []byte("GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 17000)), 431},
		{"endless stream of field lines gets 431 (RFC 6585 §5)", []byte("GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", 101)), 431},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Whole buffer.
			var p Parser
			var req Request
			if _, err := p.Parse(tc.in, &req); statusOf(err) != tc.status {
				t.Fatalf("whole: err = %v, want %d", err, tc.status)
			}
			// Growing by 64-byte steps: ErrIncomplete until the limit, then the status.
			p.Reset()
			var err error
			k := 0
			for k = 64; ; k += 64 {
				k = min(k, len(tc.in))
				if _, err = p.Parse(tc.in[:k], &req); err != ErrIncomplete || k == len(tc.in) {
					break
				}
			}
			if statusOf(err) != tc.status {
				t.Fatalf("incremental: err = %v at %d bytes, want %d", err, k, tc.status)
			}
		})
	}
}
