package websocket

// The allocation budget of the server's WebSocket echo path. A loopback round trip would
// count the client's allocations and the runtime's network poller with the server's, so
// the connection is driven here the way the event loop drives it — Serve over the
// buffered input, the loop's batch flushed to the transport, the input discarded — with a
// transport in memory in place of gnet's (server/internal/drive). Everything of the
// server's runs: frame decoding, unmasking, message assembly, UTF-8 validation,
// OnMessage, Write, the batch and flush; only gnet's own buffering is not counted.

import (
	"bytes"
	"compress/flate"
	"fmt"
	"testing"
	"unsafe"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
)

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

// TestEchoAllocations asserts the budget: no allocation per uncompressed message up to
// 64 KiB on the server side, in one frame or fragmented, and per ping.
func TestEchoAllocations(t *testing.T) {
	for _, tc := range allocCases() {
		t.Run(tc.name, func(t *testing.T) {
			f := newDriven(t, false)
			// The echo is right, and the whole input is consumed.
			f.d.Record(true)
			if f.roundTrip(tc.in); f.d.Buffered() != 0 || !bytes.Equal(f.d.Output(), tc.reply) {
				t.Fatalf("consumed %d of %d; replied %d bytes, want %d", len(tc.in)-f.d.Buffered(), len(tc.in), len(f.d.Output()), len(tc.reply))
			}
			f.d.Record(false)
			if tc.pooled && raceEnabled {
				t.Skip("sync.Pool drops items under the race detector")
			}
			before := f.d.Written()
			allocs := testing.AllocsPerRun(200, func() { f.roundTrip(tc.in) })
			if allocs != 0 {
				t.Errorf("%.1f allocations per round trip, want 0", allocs)
			}
			if f.d.Written()-before != 201*len(tc.reply) {
				t.Errorf("wrote %d bytes in 201 round trips, want %d", f.d.Written()-before, 201*len(tc.reply))
			}
		})
	}
}

// BenchmarkEcho measures the server's side of one echo round trip.
func BenchmarkEcho(b *testing.B) {
	for _, n := range []int{64, 1 << 10, 64 << 10} {
		for _, op := range []ws.OpCode{ws.OpBinary, ws.OpText} {
			p, kind := binaryOf(n), "binary"
			if op == ws.OpText {
				p, kind = textOf(n), "text"
			}
			in := msg(op, p)
			b.Run(fmt.Sprintf("%s/%dB", kind, n), func(b *testing.B) {
				f := newDriven(b, false)
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
			f := newDriven(b, true)
			f.d.Record(true)
			f.roundTrip(in)
			if out := f.d.Output(); len(out) == 0 || out[0]&0x40 == 0 {
				b.Fatalf("no compressed reply: %x", out[:min(len(out), 8)])
			}
			f.d.Record(false)
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
func TestIdleConnIsSmall(t *testing.T) {
	if size := unsafe.Sizeof(Conn{}); size > 96 {
		t.Fatalf("websocket.Conn is %d bytes, budget 96", size)
	}
	if size := unsafe.Sizeof(server.Conn{}); size > 112 {
		t.Fatalf("server.Conn is %d bytes, budget 112", size)
	}
}
