package websocket

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

func TestEchoWithFramesInTheUpgradeWrite(t *testing.T) {
	s := echoServer(t, Handler{})
	first := append(clientFrame(ws.OpText, true, []byte("hello")), clientFrame(ws.OpBinary, true, []byte{0, 1, 2})...)
	c, br := upgrade(t, s, "", first)
	if op, p := readFrame(t, br); op != ws.OpText || string(p) != "hello" {
		t.Fatalf("got %v %q", op, p)
	}
	if op, p := readFrame(t, br); op != ws.OpBinary || !bytes.Equal(p, []byte{0, 1, 2}) {
		t.Fatalf("got %v %q", op, p)
	}
	big := bytes.Repeat([]byte("x"), 300000) // streamed across reads
	servertest.Write(t, c, string(clientFrame(ws.OpBinary, true, big)))
	if _, p := readFrame(t, br); !bytes.Equal(p, big) {
		t.Fatalf("large echo differs (%d bytes)", len(p))
	}
	servertest.Write(t, c, string(clientFrame(ws.OpClose, true, ws.AppendClose(nil, 1000, "bye"))))
	if op, p := readFrame(t, br); op != ws.OpClose || len(p) < 2 || p[0] != 0x03 || p[1] != 0xe8 {
		t.Fatalf("close reply: %v %x", op, p)
	}
	servertest.ExpectClosed(t, br)
}

func TestHandshakeRejections(t *testing.T) {
	s := echoServer(t, Handler{})
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
			c := servertest.Dial(t, s.Addr())
			servertest.Write(t, c, tc.req)
			resp, body := servertest.ReadResponse(t, bufio.NewReader(c), "GET")
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.bodyHas) {
				t.Fatalf("got %d %q", resp.StatusCode, body)
			}
			if tc.status == 426 && (resp.Header.Get("Sec-WebSocket-Version") != "13" ||
				resp.Header.Get("Upgrade") != "websocket" || resp.Header.Get("Connection") != "Upgrade") {
				t.Fatalf("426 must carry Sec-WebSocket-Version: 13, Upgrade: websocket and Connection: Upgrade (RFC 9110 §15.5.22): %v", resp.Header)
			}
		})
	}
}
