package http2

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/h2ws"
	"github.com/switchyard-dev/switchyard/server/websocket"
	"golang.org/x/net/http2"
)

// closeServer is a WebSocket echo over HTTP/2 that reports each OnClose code; the message
// "close" makes the server close with 1000.
func closeServer(t *testing.T, cfg server.Config) (*server.Server, chan websocket.StatusCode) {
	codes := make(chan websocket.StatusCode, 16)
	s := wsServer(t, cfg, Config{}, websocket.Handler{
		OnMessage: func(c *websocket.Conn, m websocket.Message) {
			if string(m.Payload) == "close" {
				c.Close(websocket.StatusCode(ws.StatusNormalClosure), "as asked")
				return
			}
			_ = c.Write(m.Op, m.Payload)
		},
		OnClose: func(c *websocket.Conn, code websocket.StatusCode, _ string) { codes <- code },
	}, nil)
	return s, codes
}

func wantCode(t *testing.T, codes chan websocket.StatusCode, want ws.StatusCode) {
	t.Helper()
	select {
	case code := <-codes:
		if code != websocket.StatusCode(want) {
			t.Fatalf("OnClose code %d, want %d", code, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("OnClose did not run (want %d)", want)
	}
}

// RFC 8441 §6 / RFC 9220 §4: how the stream's end maps to the WebSocket's.
func TestExtendedConnectCloseMapping(t *testing.T) {
	s, codes := closeServer(t, server.Config{})
	c := wsDial(t, s)
	bystander, bbr := wsConnect(t, c)

	t.Run("server closes: close frame, the client's answer, then END_STREAM", func(t *testing.T) {
		st, br := wsConnect(t, c)
		_, _ = st.Write(maskedFrame(ws.OpText, true, []byte("close")))
		if op, p := readWSFrame(t, br); op != ws.OpClose || closeCode(p) != ws.StatusNormalClosure {
			t.Fatalf("got op %v %x, want close 1000", op, p)
		}
		if ended, reset, _ := st.Ended(); ended || reset {
			t.Fatal("the stream ended before the client answered the close")
		}
		_, _ = st.Write(maskedFrame(ws.OpClose, true, ws.AppendClose(nil, ws.StatusNormalClosure, "")))
		if ended, reset, code := st.WaitEnd(); !ended || reset {
			t.Fatalf("END_STREAM %v, reset %v %v; want END_STREAM", ended, reset, code)
		}
		wantCode(t, codes, ws.StatusNormalClosure)
	})
	t.Run("client closes: answered, then END_STREAM", func(t *testing.T) {
		st, br := wsConnect(t, c)
		_, _ = st.Write(maskedFrame(ws.OpClose, true, ws.AppendClose(nil, ws.StatusGoingAway, "")))
		_ = st.CloseWrite()
		if op, p := readWSFrame(t, br); op != ws.OpClose || closeCode(p) != ws.StatusGoingAway {
			t.Fatalf("got op %v %x, want close 1001 echoed", op, p)
		}
		if ended, reset, code := st.WaitEnd(); !ended || reset {
			t.Fatalf("END_STREAM %v, reset %v %v; want END_STREAM", ended, reset, code)
		}
		wantCode(t, codes, ws.StatusGoingAway)
	})
	t.Run("client ends the stream without a close frame: 1006, END_STREAM", func(t *testing.T) {
		st, _ := wsConnect(t, c)
		_ = st.CloseWrite()
		if ended, reset, code := st.WaitEnd(); !ended || reset {
			t.Fatalf("END_STREAM %v, reset %v %v; want END_STREAM", ended, reset, code)
		}
		wantCode(t, codes, ws.StatusAbnormalClosure)
	})
	t.Run("client ends the stream with trailers: as END_STREAM", func(t *testing.T) {
		st, _ := wsConnect(t, c)
		if err := st.Trailers("x-done", "yes"); err != nil {
			t.Fatal(err)
		}
		if ended, reset, code := st.WaitEnd(); !ended || reset {
			t.Fatalf("END_STREAM %v, reset %v %v; want END_STREAM", ended, reset, code)
		}
		wantCode(t, codes, ws.StatusAbnormalClosure)
	})
	t.Run("client resets mid-message: 1006, nothing leaks, the others go on", func(t *testing.T) {
		st, _ := wsConnect(t, c)
		whole := maskedFrame(ws.OpBinary, true, bytes.Repeat([]byte("x"), 100000))
		_, _ = st.Write(whole[:50000])
		_ = st.Reset(http2.ErrCodeCancel)
		wantCode(t, codes, ws.StatusAbnormalClosure)
		expectEcho(t, bystander, bbr, []byte("after the reset"))
	})
	t.Run("a protocol error: close 1002, then END_STREAM", func(t *testing.T) {
		st, br := wsConnect(t, c)
		_, _ = st.Write(ws.AppendFrame(nil, true, ws.OpText, false, []byte("unmasked"))) // RFC 6455 §5.1
		if op, p := readWSFrame(t, br); op != ws.OpClose || closeCode(p) != ws.StatusProtocolError {
			t.Fatalf("got op %v %x, want close 1002", op, p)
		}
		if ended, reset, code := st.WaitEnd(); !ended || reset {
			t.Fatalf("END_STREAM %v, reset %v %v; want END_STREAM", ended, reset, code)
		}
		wantCode(t, codes, ws.StatusAbnormalClosure)
	})
	expectEcho(t, bystander, bbr, []byte("still here"))
	if n := s.Stats().OpenOnStreams["websocket"]; n != 1 {
		t.Fatalf("OpenOnStreams = %d, want 1 (the bystander)", n)
	}
}

// A WebSocket whose output cannot all be sent when it closes (the client grants no
// window) lingers, then is cancelled: RST_STREAM CANCEL, not END_STREAM (RFC 9220 §4).
func TestExtendedConnectAbnormalCloseCancels(t *testing.T) {
	s, codes := closeServer(t, server.Config{LingerTimeout: 500 * time.Millisecond})
	c := wsDial(t, s)
	st, _ := wsConnect(t, c)
	st.HoldWindow()
	big := bytes.Repeat([]byte("y"), 1<<20+1000) // more than the 1 MiB stream window
	if _, err := st.Write(maskedFrame(ws.OpBinary, true, big)); err != nil {
		t.Fatal(err)
	}
	st.WaitReceived(1 << 20) // the window is full; the rest waits in the server
	// The server closes, and the client answers its close frame without reading it (it is
	// behind the data the window holds back): the handshake is done, the output is not.
	_, _ = st.Write(maskedFrame(ws.OpText, true, []byte("close")))
	_, _ = st.Write(maskedFrame(ws.OpClose, true, ws.AppendClose(nil, ws.StatusNormalClosure, "")))
	_, reset, code := st.WaitEnd()
	if !reset || code != http2.ErrCodeCancel {
		t.Fatalf("reset %v code %v; want RST_STREAM CANCEL", reset, code)
	}
	wantCode(t, codes, ws.StatusNormalClosure)
}

// blockingServer is a WebSocket echo over HTTP/2 whose OnMessage, on the worker pool,
// waits for release before the message "wait": the connection holds its input meanwhile.
func blockingServer(t *testing.T) (*server.Server, chan websocket.StatusCode, chan struct{}) {
	codes := make(chan websocket.StatusCode, 16)
	release := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	s := wsServer(t, server.Config{}, Config{}, websocket.Handler{
		UseWorkerPool: true,
		OnMessage: func(c *websocket.Conn, m websocket.Message) {
			if string(m.Payload) == "wait" {
				<-release
				return
			}
			_ = c.WriteAsync(m.Op, m.Payload)
		},
		OnClose: func(c *websocket.Conn, code websocket.StatusCode, _ string) { codes <- code },
	}, nil)
	return s, codes, release
}

// A handler that stops reading stops the peer: the stream's input waits unconsumed, no
// WINDOW_UPDATE returns it, and the client's window runs out (RFC 9113 §5.2); once the
// handler goes on, everything sent meanwhile is served.
func TestExtendedConnectPausedHandlerStopsPeer(t *testing.T) {
	s, _, release := blockingServer(t)
	c := wsDial(t, s)
	st, br := wsConnect(t, c)
	_, _ = st.Write(maskedFrame(ws.OpText, true, []byte("wait")))
	msg := bytes.Repeat([]byte("p"), 1000)
	n := 400 // 400 KB: more than the 256 KiB stream window
	wrote := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if _, err := st.Write(maskedFrame(ws.OpBinary, true, msg)); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	if w := st.WaitSendWindow(0); w > 0 {
		t.Fatalf("the stream window stayed at %d while the handler was blocked", w)
	}
	close(release)
	for i := 0; i < n; i++ {
		if op, p := readWSFrame(t, br); op != ws.OpBinary || !bytes.Equal(p, msg) {
			t.Fatalf("message %d: op %v, %d bytes", i, op, len(p))
		}
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}

// DATA beyond the stream's window is a stream error FLOW_CONTROL_ERROR (RFC 9113 §6.9.1):
// the WebSocket on it closes abnormally (1006), and the connection goes on.
func TestExtendedConnectDataBeyondWindow(t *testing.T) {
	s, codes, release := blockingServer(t)
	c := wsDial(t, s)
	st, _ := wsConnect(t, c)
	other, obr := wsConnect(t, c)
	_, _ = st.Write(maskedFrame(ws.OpText, true, []byte("wait")))
	// One WebSocket frame of 256 KiB (the default stream window) and one byte more, sent
	// ignoring the window: the blocked handler holds the input, so none of it is returned
	// meanwhile.
	wsFrame := maskedFrame(ws.OpBinary, true, bytes.Repeat([]byte("z"), 256<<10+1))
	err := c.Framer(func(fr *http2.Framer) error {
		for p := wsFrame; len(p) > 0; {
			n := min(len(p), 16384)
			if err := fr.WriteData(st.ID, false, p[:n]); err != nil {
				return err
			}
			p = p[n:]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, reset, code := st.WaitEnd(); !reset || code != http2.ErrCodeFlowControl {
		t.Fatalf("reset %v code %v; want RST_STREAM FLOW_CONTROL_ERROR", reset, code)
	}
	close(release) // OnClose waits for the callback still running (UseWorkerPool)
	wantCode(t, codes, ws.StatusAbnormalClosure)
	expectEcho(t, other, obr, []byte("unaffected"))
}

// A WebSocket frame split across DATA frames, and across reads, is assembled: one byte per
// DATA frame, each written on its own.
func TestExtendedConnectFrameSplitAcrossData(t *testing.T) {
	s, _ := closeServer(t, server.Config{})
	c := wsDial(t, s)
	st, br := wsConnect(t, c)
	msg := []byte(strings.Repeat("split across DATA frames ", 12))
	whole := maskedFrame(ws.OpText, true, msg)
	for i := range whole {
		if _, err := st.Write(whole[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if op, p := readWSFrame(t, br); op != ws.OpText || !bytes.Equal(p, msg) {
		t.Fatalf("got op %v %q", op, p)
	}
	// Two frames in one DATA frame, the second cut in half at its end.
	two := append(maskedFrame(ws.OpText, true, []byte("one")), maskedFrame(ws.OpText, true, []byte("two"))...)
	_, _ = st.Write(two[:len(two)-2])
	_, _ = st.Write(two[len(two)-2:])
	for _, want := range []string{"one", "two"} {
		if _, p := readWSFrame(t, br); string(p) != want {
			t.Fatalf("got %q, want %q", p, want)
		}
	}
}

// Shutdown (Drain) and GOAWAY: every WebSocket stream gets close 1001 first, and the
// connection ends once their close handshakes are done.
func TestExtendedConnectDrain(t *testing.T) {
	codes := make(chan websocket.StatusCode, 4)
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 1, Logger: discard})
	srv.Upgrade(New(Config{}))
	srv.Route("/ws", server.Route{Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnMessage: func(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) },
		OnClose:   func(c *websocket.Conn, code websocket.StatusCode, _ string) { codes <- code },
	})}})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background()) }()
	c := wsDial(t, srv)
	a, abr := wsConnect(t, c)
	b, bbr := wsConnect(t, c)
	expectEcho(t, a, abr, []byte("before"))
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		stopped <- srv.Shutdown(ctx)
	}()
	for _, pair := range []struct {
		st  interface{ Write([]byte) (int, error) }
		brd func() (ws.OpCode, []byte)
	}{
		{a, func() (ws.OpCode, []byte) { return readWSFrame(t, abr) }},
		{b, func() (ws.OpCode, []byte) { return readWSFrame(t, bbr) }},
	} {
		op, p := pair.brd()
		if op != ws.OpClose || closeCode(p) != ws.StatusGoingAway {
			t.Fatalf("got op %v %x, want close 1001", op, p)
		}
		_, _ = pair.st.Write(maskedFrame(ws.OpClose, true, ws.AppendClose(nil, ws.StatusGoingAway, "")))
	}
	if code, ok := c.GoAwayCode(); !ok || code != http2.ErrCodeNo {
		t.Fatalf("GOAWAY %v %v; want NO_ERROR", code, ok)
	}
	for _, st := range []interface {
		WaitEnd() (bool, bool, http2.ErrCode)
	}{a, b} {
		if ended, reset, code := st.WaitEnd(); !ended || reset {
			t.Fatalf("END_STREAM %v, reset %v %v", ended, reset, code)
		}
	}
	wantCode(t, codes, ws.StatusGoingAway)
	wantCode(t, codes, ws.StatusGoingAway)
	_ = c.WaitClosed()
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-served
}

// The connection's idle and body timeouts do not cut a WebSocket stream short (the
// WebSocket pings its own peer), and once the last one has closed the idle timeout ends
// the connection again.
func TestExtendedConnectConnectionTimeouts(t *testing.T) {
	s, codes := closeServer(t, server.Config{IdleTimeout: 300 * time.Millisecond, BodyTimeout: 300 * time.Millisecond})
	c := wsDial(t, s)
	st, br := wsConnect(t, c)
	time.Sleep(time.Second) // several idle and body timeouts' worth of silence
	expectEcho(t, st, br, []byte("still open"))
	_, _ = st.Write(maskedFrame(ws.OpClose, true, ws.AppendClose(nil, ws.StatusNormalClosure, "")))
	wantCode(t, codes, ws.StatusNormalClosure)
	_ = c.WaitClosed()
	if code, ok := c.GoAwayCode(); !ok || code != http2.ErrCodeNo {
		t.Fatalf("GOAWAY %v %v; want NO_ERROR (idle)", code, ok)
	}
}

// A stream that stops making progress beside a WebSocket ends alone, and the WebSocket on
// the same connection goes on: the timeout no longer ends the connection while a
// WebSocket watches its own peer. A request body that never comes is answered 408 at its
// body timeout (bodytimeout.go); a response the client stops reading is cancelled at the
// connection's progress timeout (the same BodyTimeout).
func TestExtendedConnectTimeoutEndsOnlyTheStalledStream(t *testing.T) {
	big := bytes.Repeat([]byte("d"), 3<<19) // past the 1 MiB stream window h2ws grants
	s := wsServer(t, server.Config{BodyTimeout: 300 * time.Millisecond}, Config{}, websocket.Handler{},
		func(s *server.Server) {
			s.Route("/upload", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) { _, _ = w.WriteString("got it") }})
			s.Route("/download", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) { _, _ = w.Write(big) }})
		})
	cases := []struct {
		name   string
		open   func(c *h2ws.Conn) (*h2ws.Stream, error)
		status int           // the stalled stream's response, 0 for none
		code   http2.ErrCode // its RST_STREAM
	}{
		{"an upload whose body never comes", func(c *h2ws.Conn) (*h2ws.Stream, error) {
			return c.Send(false, ":method", "POST", ":scheme", "http", ":path", "/upload", ":authority", "localhost")
		}, 408, http2.ErrCodeNo},
		{"a download the client stops reading", func(c *h2ws.Conn) (*h2ws.Stream, error) {
			st, err := c.Send(true, ":method", "GET", ":scheme", "http", ":path", "/download", ":authority", "localhost")
			if err == nil {
				st.HoldWindow()
			}
			return st, err
		}, 200, http2.ErrCodeCancel},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := wsDial(t, s)
			st, br := wsConnect(t, c)
			stalled, err := tc.open(c)
			if err != nil {
				t.Fatal(err)
			}
			_ = stalled.SetDeadline(time.Now().Add(20 * time.Second)) // only a hang meets it
			if resp, err := stalled.Response(); err != nil || resp.Status != tc.status {
				t.Fatalf("the stalled stream: %+v %v, want status %d", resp, err, tc.status)
			}
			// Its DATA is left unread, so this waits for the RST_STREAM: after the 408,
			// NO_ERROR tells the client to send no more (RFC 9113 §8.1).
			if _, reset, code := stalled.WaitEnd(); !reset || code != tc.code {
				t.Fatalf("the stalled stream: reset %v code %v, want RST_STREAM %v", reset, code, tc.code)
			}
			expectEcho(t, st, br, []byte("still open"))
			if _, ok := c.GoAwayCode(); ok {
				t.Fatal("the connection got a GOAWAY")
			}
		})
	}
}

// Padding on a WebSocket stream's DATA frames counts against the windows and is granted
// back with the data (RFC 9113 §6.1, §6.9.1): a client that pads every frame keeps
// talking long past what both windows hold.
func TestExtendedConnectPaddedDataKeepsTheWindowsOpen(t *testing.T) {
	s := wsServer(t, server.Config{}, Config{StreamWindow: 16 << 10, ConnWindow: 64 << 10}, websocket.Handler{}, nil)
	c := wsDial(t, s)
	st, br := wsConnect(t, c)
	st.Pad = 255
	for i := range 600 { // 600 frames of 256 bytes of padding: 150 KiB, twice the windows
		expectEcho(t, st, br, fmt.Appendf(nil, "message %d", i))
	}
}

// An extended CONNECT whose off-loop authorization outlives HandlerTimeout is answered
// 503 on its stream, and the connection serves on; the late decision changes nothing.
func TestExtendedConnectAuthorizeTimeoutAnswers503(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	s := wsServer(t, server.Config{HandlerTimeout: time.Second}, Config{}, websocket.Handler{
		AuthorizeOffLoop: true,
		Authorize: func(r *server.Request) (any, *server.Rejection) {
			if string(r.Get("x-slow")) == "yes" {
				entered <- struct{}{}
				<-release
			}
			return nil, nil
		},
	}, nil)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	c := wsDial(t, s)
	slow, err := c.Connecting("/ws", "x-slow", "yes")
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	resp, err := slow.Response()
	if err != nil || resp.Status != 503 {
		t.Fatalf("the slow authorization: %v %v, want a 503", resp, err)
	}
	close(release)
	st, br := wsConnect(t, c) // the connection serves on
	expectEcho(t, st, br, []byte("after the timeout"))
}
