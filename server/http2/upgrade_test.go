package http2

import (
	"bufio"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// sendUpgrade dials, sends req (plus extra in the same write), and returns the client and the
// reader positioned after the server's HTTP/1.1 answer head.
func sendUpgrade(t *testing.T, s *server.Server, req string, extra []byte) (*h2Client, *bufio.Reader) {
	t.Helper()
	c := dial(t, s)
	br := bufio.NewReader(c)
	cl := newH2Client(t, c, br)
	cl.write(append([]byte(req), extra...))
	return cl, br
}

// read101 reads the 101 head byte for byte (net/http would read past it).
func read101(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var head strings.Builder
	for !strings.HasSuffix(head.String(), "\r\n\r\n") {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatalf("reading the 101: %v (got %q)", err, head.String())
		}
		head.WriteByte(b)
	}
	if !strings.HasPrefix(head.String(), "HTTP/1.1 101 Switching Protocols\r\n") {
		t.Fatalf("not a 101: %q", head.String())
	}
	return head.String()
}

var validSettings = settingsHeader(h2.Setting{ID: h2.SettingInitialWindowSize, Val: 1 << 20})

// RFC 7540 §3.2: the upgrading request is answered on stream 1 after the 101, and the
// server's first frame is its SETTINGS; a request body sent with the upgrade (read in full
// before the switch) reaches the handler.
func TestH2cUpgradeAnswersStream1(t *testing.T) {
	s := startH2Server(t)
	cases := []struct {
		name, req, body string
		sameWrite       bool
	}{
		{"GET, preface after the 101 (RFC 7540 §3.2)",
			"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: " + validSettings + "\r\n\r\n",
			"hello from switchyard over HTTP/2\n", false},
		{"POST with Content-Length, body answered on stream 1 (RFC 7540 §3.2)",
			"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: " + validSettings + "\r\n\r\nhello world",
			"hello world", false},
		{"client preface in the same write as the upgrade request (RFC 7540 §3.2)",
			"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: HTTP2-Settings, Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: " + validSettings + "\r\n\r\nabc",
			"abc", true},
		{"empty HTTP2-Settings means no parameters (RFC 7540 §3.2.1)",
			"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\n\r\n",
			"hello from switchyard over HTTP/2\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var extra []byte
			if tc.sameWrite {
				extra = clientPreface()
			}
			cl, br := sendUpgrade(t, s, tc.req, extra)
			head := read101(t, br)
			if !strings.Contains(head, "\r\nUpgrade: h2c\r\n") {
				t.Fatalf("101 without Upgrade: h2c: %q", head)
			}
			if !tc.sameWrite {
				cl.write(clientPreface())
			}
			// A second request on stream 3 proves the connection goes on as HTTP/2.
			cl.write(cl.request(nil, 3, "GET", "/", nil))
			ev := cl.readUntil(1, 3)
			if ev.first != h2.FrameSettings {
				t.Fatalf("the server's first frame was %v, want SETTINGS (RFC 9113 §3.4)", ev.first)
			}
			r1 := ev.streams[1]
			if r1 == nil || r1.status != "200" || string(r1.body) != tc.body {
				t.Fatalf("stream 1: %+v, want 200 %q", r1, tc.body)
			}
			if r3 := ev.streams[3]; r3 == nil || r3.status != "200" {
				t.Fatalf("stream 3: %+v", r3)
			}
		})
	}
}

// RFC 7540 §3.2 and §3.2.1: without exactly one valid HTTP2-Settings named in Connection
// there is no upgrade, and the request is served over HTTP/1.1. The "h2" token is for TLS
// and is never accepted in Upgrade (RFC 7540 §3.2).
func TestH2cUpgradeDeclined(t *testing.T) {
	s := startH2Server(t)
	cases := []struct{ name, headers string }{
		{"missing HTTP2-Settings (RFC 7540 §3.2.1)", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"},
		{"duplicated HTTP2-Settings (RFC 7540 §3.2.1)", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: " + validSettings + "\r\nHTTP2-Settings: " + validSettings + "\r\n"},
		{"HTTP2-Settings not listed in Connection (RFC 7540 §3.2.1)", "Connection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: " + validSettings + "\r\n"},
		{"HTTP2-Settings not base64url (RFC 7540 §3.2.1)", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk+AQ/\r\n"},
		{"h2 token is ignored (RFC 7540 §3.2)", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2\r\nHTTP2-Settings: " + validSettings + "\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			br := bufio.NewReader(c)
			servertest.Write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n"+tc.headers+"\r\n")
			resp, body := servertest.ReadResponse(t, br, "GET")
			if resp.StatusCode != 200 || resp.ProtoMajor != 1 || body != "hello from switchyard over HTTP/2\n" {
				t.Fatalf("got %s %d %q, want HTTP/1.1 200", resp.Proto, resp.StatusCode, body)
			}
		})
	}
}

// RFC 7540 §3.2 / RFC 9113 §3.4: after the 101 the client must send the preface; anything
// else is a connection error of type PROTOCOL_ERROR.
func TestH2cUpgradeGarbageInsteadOfPreface(t *testing.T) {
	s := startH2Server(t)
	cl, br := sendUpgrade(t, s, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: "+validSettings+"\r\n\r\n", nil)
	read101(t, br)
	cl.write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	ev := cl.readUntil()
	if !ev.goAway || ev.goAwayErr != h2.ErrCodeProtocol || !ev.closed {
		t.Fatalf("want GOAWAY PROTOCOL_ERROR and close, got goaway=%v %v closed=%v", ev.goAway, ev.goAwayErr, ev.closed)
	}
}

// The client's order in Upgrade decides between protocols a route offers (RFC 9110 §7.8):
// /echo takes websocket (its own upgrader) and h2c (the server's).
func TestUpgradeOrderPicksH2cOrWebSocket(t *testing.T) {
	s := startH2Server(t)
	cases := []struct{ name, upgrade, want string }{
		{"h2c first switches to HTTP/2", "h2c, websocket", "h2c"},
		{"websocket first switches to WebSocket", "websocket, h2c", "websocket"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, br := sendUpgrade(t, s, "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: "+tc.upgrade+
				"\r\nHTTP2-Settings: "+validSettings+"\r\n\r\n", nil)
			head := read101(t, br)
			if !strings.Contains(head, "\r\nUpgrade: "+tc.want+"\r\n") {
				t.Fatalf("101 %q, want Upgrade: %s", head, tc.want)
			}
		})
	}
	t.Run("plain HTTP/1.1 to /echo still gets 426", func(t *testing.T) {
		c := dial(t, s)
		servertest.Write(t, c, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, _ := servertest.ReadResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 426 {
			t.Fatalf("status %d, want 426", resp.StatusCode)
		}
	})
}
