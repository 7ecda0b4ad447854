// Package wsinterop checks switchyard's WebSocket server against a client the project did
// not write: gorilla/websocket, with and without permessage-deflate.
package wsinterop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	sws "github.com/switchyard-dev/switchyard/server/websocket"
)

// guard bounds every wait in these tests: only a hang meets it, not a slow machine.
const guard = time.Minute

// startEcho runs the echo route of `switchyard serve` (cmd/switchyard/echo.go) on a
// loopback port and returns its ws:// URL.
func startEcho(t *testing.T) string {
	t.Helper()
	s := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 2})
	s.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{sws.New(sws.Handler{
		OnMessage:   func(c *sws.Conn, m sws.Message) { _ = c.Write(m.Op, m.Payload) },
		CheckOrigin: sws.AllowAnyOrigin,
		Compression: &ws.DeflateConfig{},
	})}})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(guard): // the server's own shutdown timeout is 10s
			t.Errorf("Serve did not return")
		}
	})
	return "ws://" + s.Addr().String() + "/echo"
}

// countingConn counts the bytes the client reads off the wire.
type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// dial connects a gorilla client, offering permessage-deflate when compress is set, and
// checks the server's answer.
func dial(t *testing.T, url string, compress bool) (*websocket.Conn, *atomic.Int64) {
	t.Helper()
	read := new(atomic.Int64)
	d := websocket.Dialer{
		EnableCompression: compress,
		HandshakeTimeout:  guard,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return countingConn{c, read}, nil
		},
	}
	c, resp, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(guard))
	// gorilla offers "permessage-deflate; server_no_context_takeover;
	// client_no_context_takeover" and requires both in the answer.
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	want := ""
	if compress {
		want = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	}
	if ext != want {
		t.Fatalf("Sec-WebSocket-Extensions %q, want %q", ext, want)
	}
	return c, read
}

// payload returns n bytes of a message: compressible ASCII text, or binary.
func payload(kind, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		if kind == websocket.TextMessage {
			p[i] = "the quick brown fox jumps over the lazy dog "[i%44]
		} else {
			p[i] = byte(i*7 + i>>8)
		}
	}
	return p
}

func cleanClose(t *testing.T, c *websocket.Conn) {
	t.Helper()
	if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")); err != nil {
		t.Fatalf("writing close: %v", err)
	}
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("after our close: %v, want the server's close 1000", err)
	}
}

// Messages of every size class echo intact, compressed or not, and the connection ends
// with a clean close handshake.
func TestGorillaEcho(t *testing.T) {
	url := startEcho(t)
	sizes := []int{0, 1, 125, 126, 64 << 10, 1 << 20, 4 << 20}
	for _, compress := range []bool{false, true} {
		for _, kind := range []int{websocket.TextMessage, websocket.BinaryMessage} {
			name := fmt.Sprintf("compression=%v/%s", compress, map[int]string{websocket.TextMessage: "text", websocket.BinaryMessage: "binary"}[kind])
			t.Run(name, func(t *testing.T) {
				c, read := dial(t, url, compress)
				for _, n := range sizes {
					p := payload(kind, n)
					before := read.Load()
					if err := c.WriteMessage(kind, p); err != nil {
						t.Fatalf("%d bytes: write: %v", n, err)
					}
					gotKind, got, err := c.ReadMessage()
					if err != nil {
						t.Fatalf("%d bytes: read: %v", n, err)
					}
					if gotKind != kind || !bytes.Equal(got, p) {
						t.Fatalf("%d bytes: echo differs: type %d, %d bytes", n, gotKind, len(got))
					}
					// The reply of a large repetitive text came compressed: far fewer bytes
					// crossed the wire than the message holds.
					if wire := read.Load() - before; compress && kind == websocket.TextMessage && n >= 64<<10 && wire > int64(n/4) {
						t.Fatalf("%d bytes: %d bytes on the wire, the reply was not compressed", n, wire)
					}
				}
				cleanClose(t, c)
			})
		}
	}
}

// Pings from the client are answered with pongs carrying their payloads, in order and
// ahead of the echo of a message sent after them (RFC 6455 §5.5.2, §5.5.3).
func TestGorillaPing(t *testing.T) {
	url := startEcho(t)
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compression=%v", compress), func(t *testing.T) {
			c, _ := dial(t, url, compress)
			var pongs []string
			c.SetPongHandler(func(s string) error { pongs = append(pongs, s); return nil })
			want := []string{"", "ping 1", strings.Repeat("p", 125)}
			for _, p := range want {
				if err := c.WriteControl(websocket.PingMessage, []byte(p), time.Now().Add(guard)); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.WriteMessage(websocket.TextMessage, []byte("after the pings")); err != nil {
				t.Fatal(err)
			}
			if _, got, err := c.ReadMessage(); err != nil || string(got) != "after the pings" {
				t.Fatalf("echo: %q, %v", got, err)
			}
			if fmt.Sprint(pongs) != fmt.Sprint(want) {
				t.Fatalf("pongs %q, want %q", pongs, want)
			}
			cleanClose(t, c)
		})
	}
}
