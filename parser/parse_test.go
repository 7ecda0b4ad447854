package parser

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/parser/parsertest"
)

type hdr struct{ name, value string }

type wantReq struct {
	method, target, path, query string
	form                        TargetForm
	authority                   string
	minor                       int
	headers                     []hdr
	contentLength               int64
	chunked, keepAlive          bool
	expect100, connUpgrade      bool
	ids                         map[string]HeaderID // header name -> expected ID (unlisted: HeaderOther)
}

var validCases = []struct {
	name  string
	limit Limits
	in    []byte
	want  wantReq
}{
	{
		name: "pico703",
		in:   parsertest.Pico703,
		want: wantReq{
			method: "GET", target: "/wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg",
			path: "/wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg", authority: "www.kittyhell.com",
			minor: 1, contentLength: -1, keepAlive: true,
			headers: []hdr{
				{"Host", "www.kittyhell.com"},
				{"User-Agent", "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9"},
				{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
				{"Accept-Language", "ja,en-us;q=0.7,en;q=0.3"},
				{"Accept-Encoding", "gzip,deflate"},
				{"Accept-Charset", "Shift_JIS,utf-8;q=0.7,*;q=0.7"},
				{"Keep-Alive", "115"},
				{"Connection", "keep-alive"},
				{"Cookie", "wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral"},
			},
			ids: map[string]HeaderID{"Host": HeaderHost, "Connection": HeaderConnection},
		},
	},
	{
		name: "chrome WebSocket handshake (RFC 6455 §4.1)",
		in:   parsertest.ChromeWebSocket,
		want: wantReq{
			method: "GET", target: "/chat", path: "/chat", authority: "example.com:8000",
			minor: 1, contentLength: -1, keepAlive: true, connUpgrade: true,
			headers: []hdr{
				{"Host", "example.com:8000"},
				{"Connection", "Upgrade"},
				{"Pragma", "no-cache"},
				{"Cache-Control", "no-cache"},
				{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"},
				{"Upgrade", "websocket"},
				{"Origin", "http://example.com:8000"},
				{"Sec-WebSocket-Version", "13"},
				{"Accept-Encoding", "gzip, deflate, br"},
				{"Accept-Language", "en-US,en;q=0.9"},
				{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
				{"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"},
			},
			ids: map[string]HeaderID{
				"Host": HeaderHost, "Connection": HeaderConnection, "Upgrade": HeaderUpgrade, "Origin": HeaderOrigin,
				"Sec-WebSocket-Version": HeaderSecWebSocketVersion, "Sec-WebSocket-Key": HeaderSecWebSocketKey,
				"Sec-WebSocket-Extensions": HeaderSecWebSocketExtensions,
			},
		},
	},
	{
		name: "curl h2c upgrade (RFC 7540 §3.2)",
		in:   parsertest.CurlH2Upgrade,
		want: wantReq{
			method: "GET", target: "/", path: "/", authority: "localhost:8080",
			minor: 1, contentLength: -1, keepAlive: true, connUpgrade: true,
			headers: []hdr{
				{"Host", "localhost:8080"},
				{"User-Agent", "curl/7.88.1"},
				{"Accept", "*/*"},
				{"Connection", "Upgrade, HTTP2-Settings"},
				{"Upgrade", "h2c"},
				{"HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"},
			},
			ids: map[string]HeaderID{"Host": HeaderHost, "Connection": HeaderConnection, "Upgrade": HeaderUpgrade, "HTTP2-Settings": HeaderHTTP2Settings},
		},
	},
	{
		name: "query split at the first '?' (RFC 9112 §3.2.1)",
		in:   crlf("POST /a/b?x=1&y=?z HTTP/1.1\nhost: h\ncontent-length: 12\nExpect: 100-continue\n\n"),
		want: wantReq{
			method: "POST", target: "/a/b?x=1&y=?z", path: "/a/b", query: "x=1&y=?z", authority: "h",
			minor: 1, contentLength: 12, keepAlive: true, expect100: true,
			headers: []hdr{{"host", "h"}, {"content-length", "12"}, {"Expect", "100-continue"}},
			ids:     map[string]HeaderID{"host": HeaderHost, "content-length": HeaderContentLength, "Expect": HeaderExpect},
		},
	},
	{
		name: "HTTP/1.0 expectation ignored (RFC 9110 §10.1.1)",
		in:   crlf("POST / HTTP/1.0\nContent-Length: 2\nExpect: 100-continue\n\n"),
		want: wantReq{
			method: "POST", target: "/", path: "/", minor: 0, contentLength: 2,
			headers: []hdr{{"Content-Length", "2"}, {"Expect", "100-continue"}},
			ids:     map[string]HeaderID{"Content-Length": HeaderContentLength, "Expect": HeaderExpect},
		},
	},
	{
		name: "HTTP/1.0 keeps alive only with keep-alive (RFC 9112 §9.3)",
		in:   crlf("GET / HTTP/1.0\nConnection: Keep-Alive\n\n"),
		want: wantReq{
			method: "GET", target: "/", path: "/", minor: 0, contentLength: -1, keepAlive: true,
			headers: []hdr{{"Connection", "Keep-Alive"}},
			ids:     map[string]HeaderID{"Connection": HeaderConnection},
		},
	},
	{
		name: "HTTP/1.0 without Host and without keep-alive closes (RFC 9112 §9.3)",
		in:   crlf("GET /x HTTP/1.0\n\n"),
		want: wantReq{method: "GET", target: "/x", path: "/x", minor: 0, contentLength: -1},
	},
	{
		name: "Connection: close ends HTTP/1.1 persistence (RFC 9112 §9.6)",
		in:   crlf("GET / HTTP/1.1\nHost: a\nConnection: keep-alive, CLOSE\n\n"),
		want: wantReq{
			method: "GET", target: "/", path: "/", authority: "a", minor: 1, contentLength: -1,
			headers: []hdr{{"Host", "a"}, {"Connection", "keep-alive, CLOSE"}},
			ids:     map[string]HeaderID{"Host": HeaderHost, "Connection": HeaderConnection},
		},
	},
	{
		name: "chunked as final transfer coding (RFC 9112 §6.1)",
		in:   crlf("POST /up HTTP/1.1\nHost: a\nTransfer-Encoding: Chunked\n\n"),
		want: wantReq{
			method: "POST", target: "/up", path: "/up", authority: "a", minor: 1, contentLength: -1, chunked: true, keepAlive: true,
			headers: []hdr{{"Host", "a"}, {"Transfer-Encoding", "Chunked"}},
			ids:     map[string]HeaderID{"Host": HeaderHost, "Transfer-Encoding": HeaderTransferEncoding},
		},
	},
	{
		name: "identical Content-Length lines and list accepted (RFC 9110 §8.6)",
		in:   crlf("PUT / HTTP/1.1\nHost: a\nContent-Length: 5, 5\nContent-Length: 5\n\n"),
		want: wantReq{
			method: "PUT", target: "/", path: "/", authority: "a", minor: 1, contentLength: 5, keepAlive: true,
			headers: []hdr{{"Host", "a"}, {"Content-Length", "5, 5"}, {"Content-Length", "5"}},
			ids:     map[string]HeaderID{"Host": HeaderHost, "Content-Length": HeaderContentLength},
		},
	},
	{
		name: "OWS around field values trimmed, empty value kept (RFC 9112 §5.1)",
		in:   crlf("GET / HTTP/1.1\nHost:\t a \t\nX-Empty:\nX-Tab: a\tb\nX-Obs: caf\xc3\xa9\n\n"),
		want: wantReq{
			method: "GET", target: "/", path: "/", authority: "a", minor: 1, contentLength: -1, keepAlive: true,
			headers: []hdr{{"Host", "a"}, {"X-Empty", ""}, {"X-Tab", "a\tb"}, {"X-Obs", "caf\xc3\xa9"}},
			ids:     map[string]HeaderID{"Host": HeaderHost},
		},
	},
	{
		name: "empty lines before the request-line ignored (RFC 9112 §2.2)",
		in:   crlf("\n\nGET / HTTP/1.1\nHost: a\n\n"),
		want: wantReq{
			method: "GET", target: "/", path: "/", authority: "a", minor: 1, contentLength: -1, keepAlive: true,
			headers: []hdr{{"Host", "a"}},
			ids:     map[string]HeaderID{"Host": HeaderHost},
		},
	},
	{
		name: "absolute-form: authority from the target (RFC 9112 §3.2.2)",
		in:   crlf("GET http://Example.com:80/p/q?r HTTP/1.1\nHost: other\n\n"),
		want: wantReq{
			method: "GET", target: "http://Example.com:80/p/q?r", path: "/p/q", query: "r", form: FormAbsolute,
			authority: "Example.com:80", minor: 1, contentLength: -1, keepAlive: true,
			headers: []hdr{{"Host", "other"}},
			ids:     map[string]HeaderID{"Host": HeaderHost},
		},
	},
	{
		name: "absolute-form with empty path means / (RFC 9110 §4.2.3)",
		in:   crlf("GET http://[::1]:8080 HTTP/1.1\nHost: [::1]:8080\n\n"),
		want: wantReq{
			method: "GET", target: "http://[::1]:8080", path: "/", form: FormAbsolute,
			authority: "[::1]:8080", minor: 1, contentLength: -1, keepAlive: true,
			headers: []hdr{{"Host", "[::1]:8080"}},
			ids:     map[string]HeaderID{"Host": HeaderHost},
		},
	},
	{
		name: "authority-form for CONNECT (RFC 9112 §3.2.3)",
		in:   crlf("CONNECT example.com:443 HTTP/1.1\nHost: example.com:443\n\n"),
		want: wantReq{
			method: "CONNECT", target: "example.com:443", form: FormAuthority,
			authority: "example.com:443", minor: 1, contentLength: -1, keepAlive: true,
			headers: []hdr{{"Host", "example.com:443"}},
			ids:     map[string]HeaderID{"Host": HeaderHost},
		},
	},
	{
		name: "asterisk-form for OPTIONS (RFC 9112 §3.2.4)",
		in:   crlf("OPTIONS * HTTP/1.1\nHost: a\n\n"),
		want: wantReq{
			method: "OPTIONS", target: "*", path: "*", form: FormAsterisk, authority: "a",
			minor: 1, contentLength: -1, keepAlive: true,
			headers: []hdr{{"Host", "a"}},
			ids:     map[string]HeaderID{"Host": HeaderHost},
		},
	},
	{
		name: "higher HTTP/1 minor version handled as 1.1 (RFC 9110 §6.2)",
		in:   crlf("GET / HTTP/1.9\nHost: a\n\n"),
		want: wantReq{
			method: "GET", target: "/", path: "/", authority: "a", minor: 1, contentLength: -1, keepAlive: true,
			headers: []hdr{{"Host", "a"}},
			ids:     map[string]HeaderID{"Host": HeaderHost},
		},
	},
	{
		name:  "bare LF accepted when AllowBareLF (RFC 9112 §2.2)",
		limit: Limits{AllowBareLF: true},
		in:    []byte("\nGET / HTTP/1.1\nHost: a\r\nX: y\n\n"),
		want: wantReq{
			method: "GET", target: "/", path: "/", authority: "a", minor: 1, contentLength: -1, keepAlive: true,
			headers: []hdr{{"Host", "a"}, {"X", "y"}},
			ids:     map[string]HeaderID{"Host": HeaderHost},
		},
	},
	{
		name: "all known headers indexed case-insensitively",
		in: crlf("GET /ws HTTP/1.1\nHOST: a\nconnection: upgrade\nUPGRADE: websocket\norigin: o\nsec-websocket-key: k\n" +
			"SEC-WEBSOCKET-VERSION: 13\nSec-Websocket-Protocol: chat\nsec-websocket-extensions: x\nhttp2-settings: s\nexpect: 100-CONTINUE\n\n"),
		want: wantReq{
			method: "GET", target: "/ws", path: "/ws", authority: "a", minor: 1, contentLength: -1, keepAlive: true,
			connUpgrade: true, expect100: true,
			headers: []hdr{{"HOST", "a"}, {"connection", "upgrade"}, {"UPGRADE", "websocket"}, {"origin", "o"},
				{"sec-websocket-key", "k"}, {"SEC-WEBSOCKET-VERSION", "13"}, {"Sec-Websocket-Protocol", "chat"},
				{"sec-websocket-extensions", "x"}, {"http2-settings", "s"}, {"expect", "100-CONTINUE"}},
			ids: map[string]HeaderID{"HOST": HeaderHost, "connection": HeaderConnection, "UPGRADE": HeaderUpgrade,
				"origin": HeaderOrigin, "sec-websocket-key": HeaderSecWebSocketKey, "SEC-WEBSOCKET-VERSION": HeaderSecWebSocketVersion,
				"Sec-Websocket-Protocol": HeaderSecWebSocketProtocol, "sec-websocket-extensions": HeaderSecWebSocketExtensions,
				"http2-settings": HeaderHTTP2Settings, "expect": HeaderExpect},
		},
	},
}

func checkRequest(t *testing.T, in []byte, req *Request, w wantReq) {
	t.Helper()
	str := func(field, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	str("Method", string(req.Method), w.method)
	str("Target", string(req.Target), w.target)
	str("Path", string(req.Path), w.path)
	str("Query", string(req.Query), w.query)
	str("Authority", string(req.Authority), w.authority)
	if req.Form != w.form {
		t.Errorf("Form = %d, want %d", req.Form, w.form)
	}
	if req.ProtoMinor != w.minor {
		t.Errorf("ProtoMinor = %d, want %d", req.ProtoMinor, w.minor)
	}
	if req.ContentLength != w.contentLength {
		t.Errorf("ContentLength = %d, want %d", req.ContentLength, w.contentLength)
	}
	flags := []struct {
		name      string
		got, want bool
	}{
		{"Chunked", req.Chunked, w.chunked}, {"KeepAlive", req.KeepAlive, w.keepAlive},
		{"Expect100", req.Expect100, w.expect100}, {"ConnUpgrade", req.ConnUpgrade, w.connUpgrade},
	}
	for _, f := range flags {
		if f.got != f.want {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
	if req.HeadLen != len(in) {
		t.Errorf("HeadLen = %d, want %d", req.HeadLen, len(in))
	}
	if len(req.Headers) != len(w.headers) {
		t.Fatalf("got %d headers, want %d:\n%s", len(req.Headers), len(w.headers), summary(req))
	}
	counts := map[HeaderID]int{}
	firsts := map[HeaderID]string{}
	for i, h := range req.Headers {
		str("header name", string(h.Name), w.headers[i].name)
		str("header value", string(h.Value), w.headers[i].value)
		if h.ID != w.ids[w.headers[i].name] {
			t.Errorf("header %q: ID %v, want %v", h.Name, h.ID, w.ids[w.headers[i].name])
		}
		if _, ok := firsts[h.ID]; !ok {
			firsts[h.ID] = w.headers[i].value
		}
		counts[h.ID]++
		if got, want := req.Lookup(strings.ToUpper(w.headers[i].name)), firstByName(w.headers, w.headers[i].name); got == nil || string(got) != want {
			t.Errorf("Lookup(%q) = %q, want %q", strings.ToUpper(w.headers[i].name), got, want)
		}
	}
	for id := HeaderID(1); id < numHeaderIDs; id++ {
		if got := req.Count(id); got != counts[id] {
			t.Errorf("Count(%v) = %d, want %d", id, got, counts[id])
		}
		got, want := req.Get(id), firsts[id]
		if counts[id] == 0 && got != nil || counts[id] > 0 && string(got) != want {
			t.Errorf("Get(%v) = %q, want %q", id, got, want)
		}
	}
	if err := viewsInside(in, req); err != nil {
		t.Error(err)
	}
}

func firstByName(hs []hdr, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.name, name) {
			return h.value
		}
	}
	return ""
}

func TestParseValid(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			p := Parser{Limits: tc.limit}
			var req Request
			n, err := p.Parse(tc.in, &req)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if n != len(tc.in) {
				t.Errorf("n = %d, want %d", n, len(tc.in))
			}
			checkRequest(t, tc.in, &req, tc.want)
		})
	}
}

func TestPico703Length(t *testing.T) {
	if len(parsertest.Pico703) != 703 {
		t.Fatalf("Pico703 is %d bytes, want 703", len(parsertest.Pico703))
	}
}

// A request followed by its body or the next pipelined request: Parse stops
// at the end of the head and leaves the rest alone.
func TestParsePipelined(t *testing.T) {
	first := crlf("POST /a HTTP/1.1\nHost: a\nContent-Length: 3\n\n")
	second := crlf("GET /b HTTP/1.1\nHost: b\n\n")
	buf := append(append(append([]byte{}, first...), "xyz"...), second...)
	var p Parser
	var req Request
	n, err := p.Parse(buf, &req)
	if err != nil || n != len(first) || string(req.Path) != "/a" || req.ContentLength != 3 {
		t.Fatalf("first: n=%d err=%v path=%q cl=%d", n, err, req.Path, req.ContentLength)
	}
	rest := buf[n+3:]
	n, err = p.Parse(rest, &req)
	if err != nil || n != len(second) || string(req.Path) != "/b" || req.ContentLength != -1 || len(req.Headers) != 1 {
		t.Fatalf("second: n=%d err=%v path=%q cl=%d headers=%d", n, err, req.Path, req.ContentLength, len(req.Headers))
	}
}

func TestParseIncompleteThenPreface(t *testing.T) {
	var p Parser
	var req Request
	for i := 0; i <= PrefaceLen; i++ {
		_, err := p.Parse([]byte(Preface[:i]), &req)
		want := ErrIncomplete
		if i == PrefaceLen {
			want = ErrPreface
		}
		if err != want {
			t.Fatalf("Preface[:%d]: err = %v, want %v", i, err, want)
		}
	}
	// The preface followed by frames is still the preface (RFC 9113 §3.4).
	if _, err := p.Parse([]byte(Preface+"\x00\x00\x00\x04\x00\x00\x00\x00\x00"), &req); err != ErrPreface {
		t.Fatalf("Preface + SETTINGS: err = %v", err)
	}
	// Diverging from the preface is parsed as HTTP/1, where HTTP/2.0 is 505.
	_, err := p.Parse([]byte("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"), &req)
	if statusOf(err) != 505 {
		t.Fatalf("PRI with a wrong tail: err = %v, want 505", err)
	}
}

func TestMatchPreface(t *testing.T) {
	cases := []struct {
		name             string
		in               string
		prefix, complete bool
	}{
		{"empty input is a prefix", "", true, false},
		{"partial Preface (RFC 9113 §3.4)", "PRI * HTTP/2", true, false},
		{"complete Preface (RFC 9113 §3.4)", Preface, true, true},
		{"Preface followed by frames", Preface + "\x00\x00", true, true},
		{"HTTP/1.1 request", "POST / HTTP/1.1\r\n", false, false},
		{"diverges in the tail", "PRI * HTTP/2.0\r\n\r\nSN", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prefix, complete := MatchPreface([]byte(tc.in))
			if prefix != tc.prefix || complete != tc.complete {
				t.Fatalf("got (%v, %v), want (%v, %v)", prefix, complete, tc.prefix, tc.complete)
			}
		})
	}
}

func TestParseAllocs(t *testing.T) {
	for _, in := range [][]byte{parsertest.Pico703, parsertest.ChromeWebSocket, parsertest.CurlH2Upgrade} {
		var p Parser
		var req Request
		if _, err := p.Parse(in, &req); err != nil { // grows Headers once
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := p.Parse(in, &req); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Parse allocates %.1f times per request, want 0", allocs)
		}
	}
	// Errors are package-level values: failing allocates nothing either.
	var p Parser
	var req Request
	bad := crlf("GET / HTTP/1.1\nHost: a\nBad Name: x\n\n")
	if allocs := testing.AllocsPerRun(100, func() { _, _ = p.Parse(bad, &req) }); allocs != 0 {
		t.Errorf("a failing Parse allocates %.1f times, want 0", allocs)
	}
	// And so does waiting for more bytes.
	half := parsertest.Pico703[:400]
	if allocs := testing.AllocsPerRun(100, func() { p.Reset(); _, _ = p.Parse(half, &req) }); allocs != 0 {
		t.Errorf("an incomplete Parse allocates %.1f times, want 0", allocs)
	}
}

func TestErrorMessage(t *testing.T) {
	var p Parser
	var req Request
	_, err := p.Parse(crlf("GET / HTTP/1.1\nHost : a\n\n"), &req)
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "RFC 9112 §5.1") {
		t.Fatalf("err = %v", err)
	}
}
