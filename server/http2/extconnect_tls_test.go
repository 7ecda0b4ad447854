package http2

import (
	"crypto/tls"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/h2ws"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// TestWebSocketOverH2SeesTheTLSSession: a WebSocket opened by extended CONNECT on an
// HTTP/2-over-TLS connection reports the session that carries it (TLSConnectionState,
// IsTLS), as one upgraded over HTTP/1.1 on TLS does.
func TestWebSocketOverH2SeesTheTLSSession(t *testing.T) {
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		st     tls.ConnectionState
		ok, is bool
	}
	opened := make(chan seen, 1)
	s := wsServer(t, server.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, Config{},
		websocket.Handler{OnOpen: func(c *websocket.Conn) {
			st, ok := c.Conn().TLSConnectionState()
			opened <- seen{st, ok, c.Conn().IsTLS()}
		}}, nil)
	tc, err := tls.Dial("tcp", s.Addr().String(), &tls.Config{InsecureSkipVerify: true, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := h2ws.Start(tc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, br := wsConnect(t, c)
	expectEcho(t, st, br, []byte("over TLS"))
	got := <-opened
	if !got.ok || !got.is || got.st.NegotiatedProtocol != "h2" || got.st.ServerName != "localhost" || !got.st.HandshakeComplete {
		t.Fatalf("the WebSocket's connection reports TLS %v (IsTLS %v), ALPN %q, SNI %q, complete %v; want the carrying h2 session",
			got.ok, got.is, got.st.NegotiatedProtocol, got.st.ServerName, got.st.HandshakeComplete)
	}
}
