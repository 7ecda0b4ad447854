package websocket

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// handshake is an opening handshake for /ws without its final CRLF, so that a test can
// add header lines; its key's Sec-WebSocket-Accept is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
const handshake = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

// runServer serves a server set up by setup on a loopback port for the test's duration;
// cancel shuts it down gracefully and servertest.Wait waits for that.
func runServer(t testing.TB, cfg server.Config, setup func(*server.Server)) (*server.Server, context.CancelFunc, *servertest.Served) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	srv := server.New(cfg)
	setup(srv)
	cancel, sv := servertest.Start(t, srv)
	return srv, cancel, sv
}

// serveWS serves h on /ws, a route that takes only WebSocket upgrades.
func serveWS(t testing.TB, cfg server.Config, h Handler) *server.Server {
	t.Helper()
	srv, _, _ := runServer(t, cfg, func(s *server.Server) {
		s.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{New(h)}})
	})
	return srv
}

// echoServer serves h on /ws, echoing every message unless h says otherwise.
func echoServer(t *testing.T, h Handler) *server.Server {
	if h.OnMessage == nil {
		h.OnMessage = func(c *Conn, m Message) { _ = c.Write(m.Op, m.Payload) }
	}
	return serveWS(t, server.Config{}, h)
}

func clientFrame(op ws.OpCode, fin bool, payload []byte) []byte {
	return ws.AppendMaskedFrame(nil, fin, op, 0, [4]byte{1, 2, 3, 4}, payload)
}

// readFrame reads one server frame (unmasked, RFC 6455 §5.1).
func readFrame(t testing.TB, br *bufio.Reader) (ws.OpCode, []byte) {
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

// upgrade opens a connection to s's /ws with the extra header lines and, in the same
// write, firstFrames; it checks the 101.
func upgrade(t testing.TB, s *server.Server, extra string, firstFrames []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := servertest.Dial(t, s.Addr())
	br := bufio.NewReader(c)
	servertest.Write(t, c, handshake+extra+"\r\n"+string(firstFrames))
	resp, _ := servertest.ReadResponse(t, br, "GET")
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	return c, br
}
