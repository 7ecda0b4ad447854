package server_test

import (
	"bufio"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
	"github.com/switchyard-dev/switchyard/server/websocket"
	xhttp2 "golang.org/x/net/http2"
)

// Issue 14, item 10, end to end: an upgrade request still arriving when Shutdown's drain
// passes its connection completes afterwards, and the protocol it starts is drained at
// once: WebSocket sends 1001 (RFC 6455 §7.4.1), h2c sends GOAWAY (RFC 9113 §6.8).
// Before, the new protocol started after the drain had gone by and never heard of it:
// the connection stayed open until the shutdown deadline cut it. One loop, so that the
// idle connection closed by the drain shows the drain has passed the other two.
func TestUpgradeCompletingDuringDrainGetsGoingAway(t *testing.T) {
	s := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 1, ShutdownTimeout: 5 * time.Second})
	s.Route("/", server.Route{HTTP: text("x")})
	s.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{})}})
	s.Upgrade(http2.New(http2.Config{}))
	cancel, done := servertest.Start(t, s)

	idle := servertest.Dial(t, s.Addr())
	idleBr := bufio.NewReader(idle)
	servertest.Write(t, idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	servertest.ReadResponse(t, idleBr, "GET")

	// Both requests lack their last CRLF.
	wsc := servertest.Dial(t, s.Addr())
	wsBr := bufio.NewReader(wsc)
	servertest.Write(t, wsc, wsHandshake[:len(wsHandshake)-2])
	h2c := servertest.Dial(t, s.Addr())
	h2Br := bufio.NewReader(h2c)
	servertest.Write(t, h2c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\n")
	// The loop has read both partial requests once a request on a third connection,
	// sent after them, is answered (one loop serves all three in turn).
	probe := servertest.Dial(t, s.Addr())
	servertest.Write(t, probe, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	servertest.ReadResponse(t, bufio.NewReader(probe), "GET")

	cancel()                           // Shutdown
	servertest.ExpectClosed(t, idleBr) // the drain has run on the loop

	servertest.Write(t, wsc, "\r\n")
	if resp, _ := servertest.ReadResponse(t, wsBr, "GET"); resp.StatusCode != 101 {
		t.Fatalf("WebSocket handshake during the drain: %d, want 101", resp.StatusCode)
	}
	if op, p := readServerFrame(t, wsBr); op != ws.OpClose || len(p) < 2 || ws.StatusCode(int(p[0])<<8|int(p[1])) != ws.StatusGoingAway {
		t.Fatalf("WebSocket upgraded during the drain got %v %q, want close 1001", op, p)
	}
	closeFrame := ws.AppendMaskedFrame(nil, true, ws.OpClose, 0, [4]byte{1, 2, 3, 4}, ws.AppendClose(nil, ws.StatusGoingAway, ""))
	servertest.Write(t, wsc, string(closeFrame))
	servertest.ExpectClosed(t, wsBr)

	servertest.Write(t, h2c, "\r\n")
	if resp, _ := servertest.ReadResponse(t, h2Br, "GET"); resp.StatusCode != 101 {
		t.Fatalf("h2c upgrade during the drain: %d, want 101", resp.StatusCode)
	}
	servertest.Write(t, h2c, xhttp2.ClientPreface)
	fr := xhttp2.NewFramer(h2c, h2Br)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// The upgrade's request is answered on stream 1 (RFC 7540 §3.2), GOAWAY says no
	// stream after it will be, and the connection closes.
	goAway, answered := false, false
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			if !goAway || !answered {
				t.Fatalf("h2c upgraded during the drain: closed (%v) with GOAWAY %v, stream 1 answered %v; want both", err, goAway, answered)
			}
			break
		}
		switch f := f.(type) {
		case *xhttp2.GoAwayFrame:
			if f.ErrCode != xhttp2.ErrCodeNo || f.LastStreamID != 1 {
				t.Fatalf("GOAWAY last=%d code=%v, want 1 NO_ERROR", f.LastStreamID, f.ErrCode)
			}
			goAway = true
		case *xhttp2.DataFrame:
			answered = answered || (f.StreamID == 1 && f.StreamEnded())
		}
	}
	servertest.Wait(t, done)
}
