package websocket

// The allocation budget of the WebSocket echo over an HTTP/2 stream (RFC 8441), driven
// as alloc_test.go drives the HTTP/1.1 one: one read is one DATA frame carrying client
// frames, served by the HTTP/2 protocol, handed to the WebSocket on the stream's child
// connection, echoed, and framed back as DATA on the connection.

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/internal/drive"
	"golang.org/x/net/http2/hpack"
)

// h2Driven is a WebSocket on stream 1 of an HTTP/2 connection driven without a socket.
type h2Driven struct {
	d       drive.Conn
	data    []byte // the DATA frames of the current round trip
	granted int    // bytes written by the server when the client last granted windows
}

func newH2Driven(tb testing.TB) *h2Driven {
	tb.Helper()
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 2})
	srv.Upgrade(http2.New(http2.Config{}))
	srv.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{New(Handler{
		OnMessage: func(c *Conn, m Message) { _ = c.Write(m.Op, m.Payload) }})}})
	in := h2.AppendSettings([]byte(h2.ClientPreface), h2.Setting{ID: h2.SettingInitialWindowSize, Val: h2.MaxWindowSize})
	in = h2.AppendWindowUpdate(in, 0, h2.MaxWindowSize-65535)
	return &h2Driven{d: openH2WebSocket(tb, srv, in)}
}

// openH2WebSocket drives a connection of srv that opens a WebSocket on /ws as stream 1
// (RFC 8441) after prelude (the client preface and its SETTINGS), and checks the 200.
func openH2WebSocket(tb testing.TB, srv *server.Server, prelude []byte) drive.Conn {
	tb.Helper()
	d := drive.New(srv)
	var ebuf bytes.Buffer
	enc := hpack.NewEncoder(&ebuf)
	for _, f := range [][2]string{{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "http"},
		{":path", "/ws"}, {":authority", "bench.example"}, {"sec-websocket-version", "13"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	d.Record(true)
	if d.Feed(h2.AppendHeaders(prelude, 1, ebuf.Bytes(), false, 0)) {
		tb.Fatalf("the server closed the connection: %q", d.Output())
	}
	if !bytes.Contains(d.Output(), []byte{0x88}) { // :status 200, indexed (RFC 7541 Appendix A)
		tb.Fatalf("no 200 for the extended CONNECT: %x", d.Output())
	}
	d.Reset()
	d.Record(false)
	return d
}

// roundTrip delivers frames as DATA on stream 1, in one read.
func (f *h2Driven) roundTrip(frames []byte) {
	f.data = f.data[:0]
	for len(frames) > 0 {
		n := min(len(frames), 16384) // the server's SETTINGS_MAX_FRAME_SIZE
		f.data = h2.AppendData(f.data, 1, frames[:n], false)
		frames = frames[n:]
	}
	// As a client does, give back the windows the replies took, here every 1 GiB (the
	// windows started at 2 GiB - 1). What the server wrote includes frame headers, which
	// the windows do not count: granting a little less never overflows them.
	if n := f.d.Written() - f.granted; n >= 1<<30 {
		grant := uint32(n - n/32)
		f.data = h2.AppendWindowUpdate(h2.AppendWindowUpdate(f.data, 0, grant), 1, grant)
		f.granted += n
	}
	f.d.Feed(f.data)
}

// TestWebSocketOverH2EchoAllocations asserts the same budget as over HTTP/1.1: no
// allocation per uncompressed message up to 64 KiB, nor per ping, on the server's side.
func TestWebSocketOverH2EchoAllocations(t *testing.T) {
	for _, tc := range allocCases() {
		t.Run(tc.name, func(t *testing.T) {
			f := newH2Driven(t)
			f.d.Record(true)
			f.roundTrip(tc.in)
			var want []byte
			for p := tc.reply; len(p) > 0; {
				n := min(len(p), 16384) // the default SETTINGS_MAX_FRAME_SIZE
				want = h2.AppendData(want, 1, p[:n], false)
				p = p[n:]
			}
			if out := f.d.Output(); f.d.Buffered() != 0 || !bytes.Equal(out, want) {
				t.Fatalf("consumed %d of %d; replied %d bytes, want %d", len(f.data)-f.d.Buffered(), len(f.data), len(out), len(want))
			}
			f.d.Record(false)
			// A message larger than a DATA frame arrives over several, so it is joined in
			// the connection's pooled input accumulator.
			if (tc.pooled || len(tc.in) > 16384) && raceEnabled {
				t.Skip("sync.Pool drops items under the race detector")
			}
			if allocs := testing.AllocsPerRun(200, func() { f.roundTrip(tc.in) }); allocs != 0 {
				t.Errorf("%.1f allocations per round trip, want 0", allocs)
			}
		})
	}
}

// BenchmarkWebSocketOverH2Echo is BenchmarkEcho with the WebSocket on an HTTP/2 stream.
func BenchmarkWebSocketOverH2Echo(b *testing.B) {
	for _, n := range []int{64, 1 << 10, 64 << 10} {
		for _, op := range []ws.OpCode{ws.OpBinary, ws.OpText} {
			p, kind := binaryOf(n), "binary"
			if op == ws.OpText {
				p, kind = textOf(n), "text"
			}
			in := msg(op, p)
			b.Run(fmt.Sprintf("%s/%dB", kind, n), func(b *testing.B) {
				f := newH2Driven(b)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					f.roundTrip(in)
				}
			})
		}
	}
}
