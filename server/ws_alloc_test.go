package server

// The allocation budget of the server's WebSocket echo path. A loopback round trip would
// count the client's allocations and the runtime's network poller with the server's, so
// the connection is driven here the way engine.OnTraffic drives it — Conn.serve over the
// buffered input, the loop's batch flushed to the socket, the input discarded — with a
// fake gnet.Conn in place of gnet's. Everything of the server's runs: frame decoding,
// unmasking, message assembly, UTF-8 validation, OnMessage, Reply, the batch and flush;
// only gnet's own buffering is not counted.

import (
	"bytes"
	"compress/flate"
	"fmt"
	"testing"
	"unsafe"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// fakeGnetConn is the part of gnet.Conn the WebSocket path uses; calling anything else
// panics on the nil embedded interface.
type fakeGnetConn struct {
	gnet.Conn
	in      []byte
	written int
	keep    bool // record what is written in out
	out     []byte
}

func (f *fakeGnetConn) Peek(int) ([]byte, error) { return f.in, nil }
func (f *fakeGnetConn) Discard(n int) (int, error) {
	f.in = f.in[n:]
	return n, nil
}
func (f *fakeGnetConn) OutboundBuffered() int { return 0 }
func (f *fakeGnetConn) Write(p []byte) (int, error) {
	f.written += len(p)
	if f.keep {
		f.out = append(f.out, p...)
	}
	return len(p), nil
}
func (f *fakeGnetConn) Writev(bs [][]byte) (int, error) {
	n := 0
	for _, b := range bs {
		n, _ = f.Write(b)
	}
	return n, nil
}

// fakeWS is an upgraded connection on a loop of its own, with the echo handler.
type fakeWS struct {
	c   *Conn
	gc  *fakeGnetConn
	w   *WSConn
	buf []byte
}

func newFakeWS(tb testing.TB, compression bool) *fakeWS {
	tb.Helper()
	srv := New(Config{})
	gc := &fakeGnetConn{}
	c := &Conn{gc: gc, srv: srv, loop: newLoop(srv, nil)}
	h := WebSocketHandler{OnMessage: func(c *WSConn, m Message) { _ = c.Reply(m.Op, m.Payload) }}
	if compression {
		h.Compression = &ws.DeflateConfig{ServerNoContextTakeover: true}
	}
	rt := WebSocket(h).(*wsRoute)
	w := &WSConn{c: c, rt: rt}
	if compression {
		params, ok := rt.Compression.Negotiate([]byte("permessage-deflate; client_no_context_takeover"))
		if !ok {
			tb.Fatal("permessage-deflate not negotiated")
		}
		w.deflate = &deflateState{params: params}
	}
	c.proto = w
	return &fakeWS{c: c, gc: gc, w: w}
}

// roundTrip delivers input as one read, exactly as engine.OnTraffic does, and returns the
// bytes consumed. input is copied first: the server unmasks in place.
func (f *fakeWS) roundTrip(input []byte) int {
	f.buf = append(f.buf[:0], input...)
	f.gc.in = f.buf
	n := f.c.serve()
	f.c.loop.flush(f.c)
	_, _ = f.gc.Discard(n)
	return n
}

// allocCase is one read's worth of client frames and the server frames it must produce.
type allocCase struct {
	name  string
	in    []byte
	reply []byte
	// pooled: the path takes buffers from sync.Pool, which the race detector empties
	// at random.
	pooled bool
}

func allocCases() []allocCase {
	t64, b1k, b64k, t64k := textOf(64), binaryOf(1<<10), binaryOf(64<<10), textOf(64<<10)
	t4k := textOf(4 << 10)
	var ten, tenReplies []byte
	for range 10 {
		ten = append(ten, msg(ws.OpText, t64)...)
		tenReplies = ws.AppendFrame(tenReplies, true, ws.OpText, false, t64)
	}
	return []allocCase{
		{name: "text 64 B", in: msg(ws.OpText, t64), reply: ws.AppendFrame(nil, true, ws.OpText, false, t64)},
		{name: "binary 1 KiB", in: msg(ws.OpBinary, b1k), reply: ws.AppendFrame(nil, true, ws.OpBinary, false, b1k)},
		{name: "binary 64 KiB", in: msg(ws.OpBinary, b64k), reply: ws.AppendFrame(nil, true, ws.OpBinary, false, b64k)},
		{name: "text 64 KiB", in: msg(ws.OpText, t64k), reply: ws.AppendFrame(nil, true, ws.OpText, false, t64k)},
		{name: "ten pipelined text 64 B", in: ten, reply: tenReplies},
		{name: "ping 125 B", in: ping(t64k[:125]), reply: ws.AppendFrame(nil, true, ws.OpPong, false, t64k[:125])},
		{name: "text 4 KiB in 4 fragments", in: fragments(ws.OpText, t4k, 1<<10),
			reply: ws.AppendFrame(nil, true, ws.OpText, false, t4k), pooled: true},
	}
}

// TestWSEchoAllocations asserts the budget: no allocation per uncompressed message up to
// 64 KiB on the server side, in one frame or fragmented, and per ping.
func TestWSEchoAllocations(t *testing.T) {
	for _, tc := range allocCases() {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeWS(t, false)
			// The echo is right, and the whole input is consumed.
			f.gc.keep = true
			if n := f.roundTrip(tc.in); n != len(tc.in) || !bytes.Equal(f.gc.out, tc.reply) {
				t.Fatalf("consumed %d of %d; replied %d bytes, want %d", n, len(tc.in), len(f.gc.out), len(tc.reply))
			}
			f.gc.keep = false
			if tc.pooled && wsRaceEnabled {
				t.Skip("sync.Pool drops items under the race detector")
			}
			before := f.gc.written
			allocs := testing.AllocsPerRun(200, func() { f.roundTrip(tc.in) })
			if allocs != 0 {
				t.Errorf("%.1f allocations per round trip, want 0", allocs)
			}
			if f.gc.written-before != 201*len(tc.reply) {
				t.Errorf("wrote %d bytes in 201 round trips, want %d", f.gc.written-before, 201*len(tc.reply))
			}
		})
	}
}

// BenchmarkWSEcho measures the server's side of one echo round trip.
func BenchmarkWSEcho(b *testing.B) {
	for _, n := range []int{64, 1 << 10, 64 << 10} {
		for _, op := range []ws.OpCode{ws.OpBinary, ws.OpText} {
			p, kind := binaryOf(n), "binary"
			if op == ws.OpText {
				p, kind = textOf(n), "text"
			}
			in := msg(op, p)
			b.Run(fmt.Sprintf("%s/%dB", kind, n), func(b *testing.B) {
				f := newFakeWS(b, false)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					f.roundTrip(in)
				}
			})
		}
	}
	// For comparison, not budgeted: compressed both ways, without context takeover.
	for _, n := range []int{1 << 10, 64 << 10} {
		p := wordsOf(n, 1)
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
		_, _ = fw.Write(p)
		_ = fw.Flush()
		in := frame(true, ws.RSV1, ws.OpText, buf.Bytes()[:buf.Len()-4])
		b.Run(fmt.Sprintf("deflate/text/%dB", n), func(b *testing.B) {
			f := newFakeWS(b, true)
			f.gc.keep = true
			f.roundTrip(in)
			if f.gc.written == 0 || f.gc.out[0]&0x40 == 0 {
				b.Fatalf("no compressed reply: %x", f.gc.out[:min(len(f.gc.out), 8)])
			}
			f.gc.keep = false
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				f.roundTrip(in)
			}
		})
	}
}

// An idle upgraded connection holds only its small structs: the bar for idle
// memory per connection depends on it (the assembler, large-frame and compressor state are
// pooled while a message is in flight).
func TestIdleWSConnIsSmall(t *testing.T) {
	if size := unsafe.Sizeof(WSConn{}); size > 96 {
		t.Fatalf("WSConn is %d bytes, budget 96", size)
	}
	if size := unsafe.Sizeof(Conn{}); size > 112 {
		t.Fatalf("Conn is %d bytes, budget 112", size)
	}
}
