package server_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	switchyardh2 "github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/internal/h2ws"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

const (
	proxyV1TCP4 = "PROXY TCP4 203.0.113.7 198.51.100.1 4711 443\r\n"
	// proxyV1TCP4Addrs is its client's address and the one the client connected to.
	proxyV1TCP4Addrs = "203.0.113.7:4711 198.51.100.1:443"
)

// proxiedConn sends a PROXY header in the same write as the client's first bytes, as a
// balancer that forwards them at once does.
type proxiedConn struct {
	net.Conn
	header []byte
}

func (c *proxiedConn) Write(p []byte) (int, error) {
	if h := c.header; h != nil {
		c.header = nil
		n, err := c.Conn.Write(append(h, p...))
		return max(n-len(h), 0), err
	}
	return c.Conn.Write(p)
}

func dialProxied(t *testing.T, addr, header string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { _ = nc.Close() })
	return &proxiedConn{Conn: nc, header: []byte(header)}
}

// Over TLS the header comes first, in cleartext, and the handshake follows it (here in
// the same write as the ClientHello): the handler and crypto/tls's ClientHelloInfo see
// the client's address, and ClientHelloInfo the address the client connected to.
func TestProxyProtocolBeforeTLS(t *testing.T) {
	hello := make(chan string, 1)
	f := startTLS(t, server.Config{ProxyProtocol: true, TLS: &tls.Config{
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			hello <- h.Conn.RemoteAddr().String() + " " + h.Conn.LocalAddr().String()
			return nil, nil
		}}}, true)
	tc := tls.Client(dialProxied(t, f.addr(), proxyV1TCP4), f.clientConfig("http/1.1"))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake behind the header: %v", err)
	}
	if got := <-hello; got != proxyV1TCP4Addrs {
		t.Fatalf("ClientHelloInfo.Conn's RemoteAddr() LocalAddr() = %q, want %q", got, proxyV1TCP4Addrs)
	}
	if _, body := tlsGet(t, tc, bufio.NewReader(tc), "/remote"); body != "203.0.113.7:4711" {
		t.Fatalf("RemoteAddr() = %q, want 203.0.113.7:4711", body)
	}
}

// A connection carried on an HTTP/2 stream (a WebSocket over RFC 8441 extended CONNECT)
// reports its parent's proxied addresses, as the stream's requests do.
func TestProxyProtocolOverHTTP2Streams(t *testing.T) {
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 2, ProxyProtocol: true})
	srv.Upgrade(switchyardh2.New(switchyardh2.Config{}))
	srv.Route("/remote", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		_, _ = w.WriteString(r.RemoteAddr().String())
	}})
	srv.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnOpen: func(c *websocket.Conn) {
			_ = c.Write(websocket.OpText, []byte(c.Conn().RemoteAddr().String()+" "+c.Conn().LocalAddr().String()))
		},
	})}})
	servertest.Start(t, srv)
	hc, err := h2ws.Start(dialProxied(t, srv.Addr().String(), proxyV1TCP4))
	if err != nil {
		t.Fatal(err)
	}
	st, resp, err := hc.Request(true, ":method", "GET", ":scheme", "http", ":path", "/remote", ":authority", "x")
	if err != nil || resp.Status != 200 {
		t.Fatalf("GET /remote over HTTP/2: %v %v", resp, err)
	}
	if body, _ := io.ReadAll(st); string(body) != "203.0.113.7:4711" {
		t.Fatalf("Request.RemoteAddr() over HTTP/2 = %q, want 203.0.113.7:4711", body)
	}
	ws, resp, err := hc.Connect("/ws")
	if err != nil || resp.Status != 200 {
		t.Fatalf("extended CONNECT: %v %v", resp, err)
	}
	_ = ws.SetDeadline(time.Now().Add(10 * time.Second))
	var head [2]byte // FIN|text, and an unmasked length under 126
	if _, err := io.ReadFull(ws, head[:]); err != nil || head[0] != 0x81 || head[1] >= 126 {
		t.Fatalf("WebSocket frame header %x: %v", head, err)
	}
	payload := make([]byte, head[1])
	if _, err := io.ReadFull(ws, payload); err != nil {
		t.Fatal(err)
	}
	if string(payload) != proxyV1TCP4Addrs {
		t.Fatalf("the WebSocket's Conn RemoteAddr() LocalAddr() = %q, want %q", payload, proxyV1TCP4Addrs)
	}
}
