package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

const wsHandshake = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

func wsEchoServer(t *testing.T, h WebSocketHandler) *Server {
	if h.OnMessage == nil {
		h.OnMessage = func(c *WSConn, m Message) { _ = c.Reply(m.Op, m.Payload) }
	}
	return startServer(t, Config{}, func(s *Server) {
		s.Route("/ws", Route{RequireUpgrade: true, Upgraders: []Upgrader{WebSocket(h)}})
	})
}

func clientFrame(op ws.OpCode, fin bool, payload []byte) []byte {
	return ws.AppendMaskedFrame(nil, fin, op, 0, [4]byte{1, 2, 3, 4}, payload)
}

// readFrame reads one server frame (unmasked, RFC 6455 §5.1).
func readFrame(t *testing.T, br *bufio.Reader) (ws.OpCode, []byte) {
	t.Helper()
	var hdr [14]byte
	if _, err := io.ReadFull(br, hdr[:2]); err != nil {
		t.Fatalf("reading frame: %v", err)
	}
	n := int64(hdr[1] & 0x7f)
	switch n {
	case 126:
		io.ReadFull(br, hdr[2:4])
		n = int64(hdr[2])<<8 | int64(hdr[3])
	case 127:
		io.ReadFull(br, hdr[2:10])
		n = 0
		for _, b := range hdr[2:10] {
			n = n<<8 | int64(b)
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		t.Fatalf("reading payload: %v", err)
	}
	return ws.OpCode(hdr[0] & 0x0f), p
}

func upgradeWS(t *testing.T, s *Server, extra string, firstFrames []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, wsHandshake+extra+"\r\n"+string(firstFrames))
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	return c, br
}

func TestWebSocketEchoWithFramesInTheUpgradeWrite(t *testing.T) {
	s := wsEchoServer(t, WebSocketHandler{})
	first := append(clientFrame(ws.OpText, true, []byte("hello")), clientFrame(ws.OpBinary, true, []byte{0, 1, 2})...)
	c, br := upgradeWS(t, s, "", first)
	if op, p := readFrame(t, br); op != ws.OpText || string(p) != "hello" {
		t.Fatalf("got %v %q", op, p)
	}
	if op, p := readFrame(t, br); op != ws.OpBinary || !bytes.Equal(p, []byte{0, 1, 2}) {
		t.Fatalf("got %v %q", op, p)
	}
	big := bytes.Repeat([]byte("x"), 300000) // streamed across reads
	write(t, c, string(clientFrame(ws.OpBinary, true, big)))
	if _, p := readFrame(t, br); !bytes.Equal(p, big) {
		t.Fatalf("large echo differs (%d bytes)", len(p))
	}
	write(t, c, string(clientFrame(ws.OpClose, true, ws.AppendClose(nil, 1000, "bye"))))
	if op, p := readFrame(t, br); op != ws.OpClose || len(p) < 2 || p[0] != 0x03 || p[1] != 0xe8 {
		t.Fatalf("close reply: %v %x", op, p)
	}
	expectClosed(t, br)
}

func TestWebSocketHandshakeRejections(t *testing.T) {
	s := wsEchoServer(t, WebSocketHandler{})
	base := "Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	cases := []struct {
		name, req, bodyHas string
		status             int
	}{
		{"wrong version gets 426 with the supported one (RFC 6455 §4.2.2)", "GET /ws HTTP/1.1\r\n" + base + "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", "must be 13", 426},
		{"missing key (RFC 6455 §4.2.1)", "GET /ws HTTP/1.1\r\n" + base + "Sec-WebSocket-Version: 13\r\n\r\n", "Sec-WebSocket-Key", 400},
		{"key not 16 bytes (RFC 6455 §4.2.1)", "GET /ws HTTP/1.1\r\n" + base + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n\r\n", "Sec-WebSocket-Key", 400},
		{"POST (RFC 6455 §4.2.1)", "POST /ws HTTP/1.1\r\n" + base + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", "GET", 400},
		{"cross-origin by default", "GET /ws HTTP/1.1\r\n" + base + "Origin: http://evil.example\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", "Origin", 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			write(t, c, tc.req)
			resp, body := readResponse(t, bufio.NewReader(c), "GET")
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.bodyHas) {
				t.Fatalf("got %d %q", resp.StatusCode, body)
			}
			if tc.status == 426 && resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Fatalf("426 must carry Sec-WebSocket-Version: 13")
			}
		})
	}
}
