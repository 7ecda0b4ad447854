package http2

import (
	"bytes"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/drive"
	"github.com/switchyard-dev/switchyard/server/websocket"
	"golang.org/x/net/http2/hpack"
)

// FuzzExtendedConnect opens a WebSocket on stream 1 by extended CONNECT (RFC 8441), then
// feeds arbitrary bytes: as the stream's DATA (WebSocket frames, split into DATA frames
// and reads at fuzzed points) when asData is set, else as raw HTTP/2 frames. No input may
// panic; the stream's unconsumed input stays within its window; and when the connection
// goes, the child is closed and its accounting returns to zero.
func FuzzExtendedConnect(f *testing.F) {
	mask := [4]byte{1, 2, 3, 4}
	seeds := [][]byte{
		nil,
		ws.AppendMaskedFrame(nil, true, ws.OpText, 0, mask, []byte("hello")),
		ws.AppendMaskedFrame(nil, false, ws.OpText, 0, mask, []byte("frag")),
		ws.AppendMaskedFrame(nil, true, ws.OpPing, 0, mask, []byte("p")),
		ws.AppendMaskedFrame(nil, true, ws.OpClose, 0, mask, ws.AppendClose(nil, 1000, "")),
		ws.AppendFrame(nil, true, ws.OpText, false, []byte("unmasked")),
		bytes.Repeat([]byte{0x82, 0xff}, 8),
	}
	frames := [][]byte{
		h2.AppendRSTStream(nil, 1, h2.ErrCodeCancel),
		h2.AppendWindowUpdate(nil, 1, 1<<20),
		h2.AppendData(nil, 1, nil, true),
		h2.AppendData(nil, 1, bytes.Repeat([]byte{'x'}, 300000)[:16384], false),
		h2.AppendSettings(nil, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 0}),
		h2.AppendGoAway(nil, 0, h2.ErrCodeNo, nil),
	}
	for _, s := range seeds {
		f.Add(s, true, uint16(len(s)/2))
	}
	for _, s := range frames {
		f.Add(s, false, uint16(len(s)/2))
	}
	f.Fuzz(fuzzExtendedConnect)
}

func fuzzExtendedConnect(t *testing.T, in []byte, asData bool, split uint16) {
	srv := server.New(server.Config{Logger: discard})
	srv.Upgrade(New(Config{}))
	srv.Route("/ws", server.Route{Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnMessage: func(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) },
	})}})
	c := drive.New(srv)
	var ebuf bytes.Buffer
	enc := hpack.NewEncoder(&ebuf)
	for _, fl := range [][2]string{{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "http"},
		{":path", "/ws"}, {":authority", "x"}, {"sec-websocket-version", "13"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: fl[0], Value: fl[1]})
	}
	closing := c.Feed(h2.AppendHeaders(clientPreface(), 1, ebuf.Bytes(), false, 0))
	h := c.Protocol().(*h2Conn)
	if closing || h.wsStreams != 1 {
		t.Fatalf("no WebSocket stream opened (closing %v)", closing)
	}
	cut := min(int(split), len(in))
	for _, part := range [][]byte{in[:cut], in[cut:]} {
		if closing {
			break
		}
		if asData && len(part) > 0 {
			part = h2.AppendData(nil, 1, part, false)
		}
		closing = c.Feed(part)
		for _, s := range h.streams {
			if s.car != nil && int64(s.childUnread) > int64(h.cfg.StreamWindow) {
				t.Fatalf("%d bytes unconsumed on a stream whose window is %d", s.childUnread, h.cfg.StreamWindow)
			}
		}
	}
	c.Close()
	if h.bufferedBody != 0 || h.wsStreams != 0 {
		t.Fatalf("after Closed: %d bytes accounted, %d WebSocket streams", h.bufferedBody, h.wsStreams)
	}
	if n := srv.Stats().OpenOnStreams["websocket"]; n != 0 {
		t.Fatalf("%d WebSockets still counted open", n)
	}
}
