package http2

import (
	"bytes"
	"crypto/tls"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/h2ws"
	"github.com/switchyard-dev/switchyard/server/websocket"
	"golang.org/x/net/http2"
)

// RFC 8441 §3: a server with a WebSocket route announces SETTINGS_ENABLE_CONNECT_PROTOCOL
// = 1; one without does not.
func TestExtendedConnectSetting(t *testing.T) {
	withWS := wsServer(t, server.Config{}, Config{}, websocket.Handler{}, nil)
	if v, ok := wsDial(t, withWS).Settings[http2.SettingEnableConnectProtocol]; !ok || v != 1 {
		t.Fatalf("with a WebSocket route: ENABLE_CONNECT_PROTOCOL = %d, %v; want 1", v, ok)
	}
	plain := startServer(t, server.Config{Logger: discard}, func(s *server.Server) {
		s.Upgrade(New(Config{}))
		s.Route("/", server.Route{HTTP: okHandler("ok")})
	})
	if v, ok := wsDial(t, plain).Settings[http2.SettingEnableConnectProtocol]; ok && v != 0 {
		t.Fatalf("without a WebSocket route: ENABLE_CONNECT_PROTOCOL = %d; want it absent", v)
	}
}

// RFC 8441 §4-§5: extended CONNECT opens a WebSocket on the stream, answered 200, and
// the route's handler echoes over it, for small and large messages, on several streams of
// one connection at once, with HTTP requests beside them.
func TestExtendedConnectEcho(t *testing.T) {
	var opened, closed int
	done := make(chan websocket.StatusCode, 8)
	s := wsServer(t, server.Config{}, Config{}, websocket.Handler{
		OnOpen:  func(c *websocket.Conn) { opened++ },
		OnClose: func(c *websocket.Conn, code websocket.StatusCode, _ string) { closed++; done <- code },
	}, func(s *server.Server) { s.Route("/hello", server.Route{HTTP: okHandler("hello")}) })
	c := wsDial(t, s)
	st1, br1 := wsConnect(t, c)
	st2, br2 := wsConnect(t, c)
	for _, n := range []int{0, 1, 125, 126, 4000, 65535, 70000, 300000} {
		msg := bytes.Repeat([]byte{'a' + byte(n%26)}, n)
		expectEcho(t, st1, br1, msg)
		expectEcho(t, st2, br2, msg)
	}
	// An HTTP request on the same connection meanwhile.
	if _, resp, err := c.Request(true, ":method", "GET", ":scheme", "http", ":path", "/hello", ":authority", "x"); err != nil || resp.Status != 200 {
		t.Fatalf("GET beside the WebSockets: %v %v", resp, err)
	}
	// A clean close: the server answers the close frame, then ends the stream.
	if _, err := st1.Write(maskedFrame(ws.OpClose, true, ws.AppendClose(nil, ws.StatusNormalClosure, "bye"))); err != nil {
		t.Fatal(err)
	}
	op, p := readWSFrame(t, br1)
	if op != ws.OpClose || closeCode(p) != ws.StatusNormalClosure {
		t.Fatalf("close reply: op %v payload %x", op, p)
	}
	if ended, reset, code := st1.WaitEnd(); !ended || reset {
		t.Fatalf("after the close handshake: END_STREAM %v, reset %v (%v); want END_STREAM", ended, reset, code)
	}
	if code := <-done; code != websocket.StatusCode(ws.StatusNormalClosure) {
		t.Fatalf("OnClose code %d, want 1000", code)
	}
	expectEcho(t, st2, br2, []byte("still here"))
	st := s.Stats()
	if st.OpenOnStreams["websocket"] != 1 || st.Outcomes[server.Outcome{Status: 200, Reason: "websocket"}] != 2 {
		t.Fatalf("stats: OpenOnStreams %v, outcomes %v", st.OpenOnStreams, st.Outcomes)
	}
}

// Over TLS (ALPN h2) a WebSocket stream works as in cleartext: the child's output is
// framed and then encrypted by the parent's transport.
func TestExtendedConnectOverTLS(t *testing.T) {
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	s := wsServer(t, server.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, Config{}, websocket.Handler{}, nil)
	raw := dial(t, s)
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err := tc.Handshake(); err != nil || tc.ConnectionState().NegotiatedProtocol != "h2" {
		t.Fatalf("TLS handshake: %v, ALPN %q", err, tc.ConnectionState().NegotiatedProtocol)
	}
	c, err := h2ws.Start(tc)
	if err != nil {
		t.Fatal(err)
	}
	st, br := wsConnect(t, c)
	for _, n := range []int{5, 20000, 200000} {
		expectEcho(t, st, br, bytes.Repeat([]byte("t"), n))
	}
}
