package server_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
	"github.com/switchyard-dev/switchyard/server/websocket"
	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// These tests live outside package server: graceful shutdown is the core's, but what
// each protocol does at it (1001, GOAWAY, Connection: close) is seen only with the
// protocol packages, which import the core.

func shutdownServer(t *testing.T, cfg server.Config, setup func(*server.Server)) (*server.Server, context.CancelFunc, *servertest.Served) {
	t.Helper()
	cfg.Addr, cfg.Loops = "127.0.0.1:0", 2
	s := server.New(cfg)
	setup(s)
	cancel, done := servertest.Start(t, s)
	return s, cancel, done
}

func text(body string) server.Handler {
	return func(w *server.ResponseWriter, r *server.Request) { _, _ = w.WriteString(body) }
}

const wsHandshake = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// upgrade opens a WebSocket on /ws and returns it after the 101.
func upgrade(t *testing.T, s *server.Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := servertest.Dial(t, s.Addr())
	br := bufio.NewReader(c)
	servertest.Write(t, c, wsHandshake)
	if resp, _ := servertest.ReadResponse(t, br, "GET"); resp.StatusCode != 101 {
		t.Fatalf("handshake: %d", resp.StatusCode)
	}
	return c, br
}

// readServerFrame reads one unmasked server frame with a payload under 126 bytes.
func readServerFrame(t *testing.T, br *bufio.Reader) (ws.OpCode, []byte) {
	t.Helper()
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		t.Fatalf("reading frame: %v", err)
	}
	p := make([]byte, hdr[1]&0x7f)
	if _, err := io.ReadFull(br, p); err != nil {
		t.Fatalf("reading payload: %v", err)
	}
	return ws.OpCode(hdr[0] & 0x0f), p
}

func TestShutdownDrainsEveryProtocol(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	s, cancel, done := shutdownServer(t, server.Config{ShutdownTimeout: 5 * time.Second}, func(s *server.Server) {
		s.Route("/slow", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
			close(entered)
			<-release
			_, _ = w.WriteString("finished")
		}})
		s.Route("/", server.Route{HTTP: text("x")})
		s.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{})}})
	})

	idle := servertest.Dial(t, s.Addr())
	idleBr := bufio.NewReader(idle)
	servertest.Write(t, idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	servertest.ReadResponse(t, idleBr, "GET")

	busy := servertest.Dial(t, s.Addr())
	busyBr := bufio.NewReader(busy)
	servertest.Write(t, busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")

	wsc, wsBr := upgrade(t, s)
	<-entered // the slow request is in its handler

	cancel() // SIGTERM in `switchyard serve`

	// RFC 9112 §9.5: an idle keep-alive connection is simply closed.
	servertest.ExpectClosed(t, idleBr)
	// WebSocket: 1001 Going Away; the client answers and the server closes.
	op, p := readServerFrame(t, wsBr)
	if op != ws.OpClose || len(p) < 2 || ws.StatusCode(int(p[0])<<8|int(p[1])) != ws.StatusGoingAway {
		t.Fatalf("websocket got %v %x, want close 1001", op, p)
	}
	closeFrame := ws.AppendMaskedFrame(nil, true, ws.OpClose, 0, [4]byte{1, 2, 3, 4}, ws.AppendClose(nil, ws.StatusGoingAway, ""))
	servertest.Write(t, wsc, string(closeFrame))
	servertest.ExpectClosed(t, wsBr)
	// New connections are refused while draining.
	if c, err := net.DialTimeout("tcp", s.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Fatalf("the listener still accepts during shutdown")
	}
	// The request in flight finishes, with Connection: close.
	close(release)
	resp, body := servertest.ReadResponse(t, busyBr, "GET")
	if body != "finished" || !resp.Close {
		t.Fatalf("in-flight request: %q close=%v", body, resp.Close)
	}
	servertest.ExpectClosed(t, busyBr)
	servertest.Wait(t, done)
}

func TestShutdownForcesWhatIsLeftAtTheDeadline(t *testing.T) {
	s, _, done := shutdownServer(t, server.Config{}, func(s *server.Server) {
		s.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{})}})
	})
	_, wsBr := upgrade(t, s) // a client that never answers the close
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if op, _ := readServerFrame(t, wsBr); op != ws.OpClose {
		t.Fatalf("got %v, want the 1001 close first", op)
	}
	servertest.ExpectClosed(t, wsBr)
	servertest.Wait(t, done)
	if n := s.Open(); n != 0 {
		t.Fatalf("%d connections still open", n)
	}
}

// HTTP/2: GOAWAY with the last stream id the server will serve (RFC 9113 §6.8), then
// close. The client is x/net's framer, not the server's own codec.
func TestShutdownSendsGoAway(t *testing.T) {
	s, cancel, done := shutdownServer(t, server.Config{ShutdownTimeout: 5 * time.Second}, func(s *server.Server) {
		s.Route("/", server.Route{HTTP: text("x")})
		s.Upgrade(http2.New(http2.Config{}))
	})
	c := servertest.Dial(t, s.Addr())
	br := bufio.NewReader(c)
	servertest.Write(t, c, xhttp2.ClientPreface)
	fr := xhttp2.NewFramer(c, br)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var block []byte
	enc := hpack.NewEncoder(writerFunc(func(p []byte) (int, error) { block = append(block, p...); return len(p), nil }))
	for _, f := range []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"},
		{Name: ":path", Value: "/"}, {Name: ":authority", Value: "x"}} {
		_ = enc.WriteField(f)
	}
	if err := fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	answered, cancelled := false, false
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("closed without GOAWAY (answered=%v): %v", answered, err)
		}
		switch f := f.(type) {
		case *xhttp2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *xhttp2.DataFrame:
			if f.StreamID == 1 && f.StreamEnded() && !cancelled {
				answered, cancelled = true, true
				cancel()
			}
		case *xhttp2.GoAwayFrame:
			if !answered {
				t.Fatalf("GOAWAY before stream 1 was answered")
			}
			if f.LastStreamID != 1 || f.ErrCode != xhttp2.ErrCodeNo {
				t.Fatalf("GOAWAY last=%d code=%v, want 1 NO_ERROR", f.LastStreamID, f.ErrCode)
			}
			servertest.ExpectClosed(t, br)
			servertest.Wait(t, done)
			return
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
