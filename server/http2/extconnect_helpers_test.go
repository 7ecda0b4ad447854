package http2

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/h2ws"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// wsServer serves h on /ws (WebSocket only) and HTTP/2 on every route; setup, if not
// nil, adds more.
func wsServer(t testing.TB, cfg server.Config, h2cfg Config, h websocket.Handler, setup func(*server.Server)) *server.Server {
	t.Helper()
	if h.OnMessage == nil {
		h.OnMessage = func(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) }
	}
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	return startServer(t, cfg, func(s *server.Server) {
		s.Upgrade(New(h2cfg))
		s.Route("/ws", server.Route{Upgraders: []server.Upgrader{websocket.New(h)}})
		if setup != nil {
			setup(s)
		}
	})
}

// wsDial opens an HTTP/2 connection to s with prior knowledge.
func wsDial(t testing.TB, s *server.Server) *h2ws.Conn {
	t.Helper()
	c, err := h2ws.Dial(s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// wsConnect opens a WebSocket on /ws over c and checks the 200.
func wsConnect(t testing.TB, c *h2ws.Conn, fields ...string) (*h2ws.Stream, *bufio.Reader) {
	t.Helper()
	st, resp, err := c.Connect("/ws", fields...)
	if err != nil {
		t.Fatalf("extended CONNECT: %v", err)
	}
	if resp.Status != 200 {
		t.Fatalf("extended CONNECT: status %d %v", resp.Status, resp.Fields)
	}
	_ = st.SetDeadline(time.Now().Add(20 * time.Second))
	return st, bufio.NewReader(st)
}

// maskedFrame is a client frame (masked, RFC 6455 §5.3).
func maskedFrame(op ws.OpCode, fin bool, p []byte) []byte {
	return ws.AppendMaskedFrame(nil, fin, op, 0, [4]byte{7, 1, 9, 3}, p)
}

// readWSFrame reads one server frame, checking it is unmasked.
func readWSFrame(t testing.TB, br *bufio.Reader) (ws.OpCode, []byte) {
	t.Helper()
	var hdr [8]byte
	if _, err := io.ReadFull(br, hdr[:2]); err != nil {
		t.Fatalf("reading a WebSocket frame: %v", err)
	}
	if hdr[1]&0x80 != 0 {
		t.Fatal("server frame is masked (RFC 6455 §5.1)")
	}
	op, n := ws.OpCode(hdr[0]&0x0f), uint64(hdr[1]&0x7f)
	switch n {
	case 126:
		_, _ = io.ReadFull(br, hdr[:2])
		n = uint64(binary.BigEndian.Uint16(hdr[:2]))
	case 127:
		_, _ = io.ReadFull(br, hdr[:8])
		n = binary.BigEndian.Uint64(hdr[:8])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		t.Fatalf("reading a %d-byte payload: %v", n, err)
	}
	return op, p
}

// expectEcho sends a text message and expects it back.
func expectEcho(t testing.TB, st *h2ws.Stream, br *bufio.Reader, msg []byte) {
	t.Helper()
	if _, err := st.Write(maskedFrame(ws.OpText, true, msg)); err != nil {
		t.Fatalf("writing: %v", err)
	}
	op, p := readWSFrame(t, br)
	if op != ws.OpText || !bytes.Equal(p, msg) {
		t.Fatalf("echo: op %v, %d bytes %.40q; want text %d bytes", op, len(p), p, len(msg))
	}
}

// closeCode is the code of a close frame's payload.
func closeCode(p []byte) ws.StatusCode {
	if len(p) < 2 {
		return 0
	}
	return ws.StatusCode(binary.BigEndian.Uint16(p))
}

func bufioReaderOf(st *h2ws.Stream) *bufio.Reader { return bufio.NewReader(st) }
