package websocket

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// FuzzServe feeds arbitrary client bytes, in arbitrary pieces, to an upgraded connection
// as the event loop would deliver them. Whatever arrives, the server must not panic,
// must not claim more bytes than it was given, and must send only well-formed server
// frames (unmasked, control frames whole and at most 125 bytes) with a close frame last
// if it closes.
func FuzzServe(f *testing.F) {
	seeds := [][]byte{
		text("hello"),
		cat(frag(ws.OpText, false, []byte("frag")), ping([]byte("p")), frag(ws.OpContinuation, true, []byte("ment"))),
		closeFrame(1000, "bye"),
		msg(ws.OpClose, []byte{3}),
		frame(true, ws.RSV1, ws.OpText, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}),
		frame(true, ws.RSV2, ws.OpText, nil),
		frame(true, 0, 5, nil),
		text("\xed\xa0\x80"),
		fragments(ws.OpText, []byte("κόσμε"), 1),
		ping(repeat('x', 126)),
		msg(ws.OpBinary, binaryOf(300)),
	}
	for i, s := range seeds {
		f.Add(s, uint8(i), false)
		f.Add(s, uint8(1), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, piece uint8, compression bool) {
		fw := newDriven(t, compression)
		fw.d.Record(true)
		step := int(piece)%16 + 1
		closed := false
		for off := 0; off < len(in) && !closed; off += step {
			// What the server left unconsumed is kept and served again with the new bytes.
			chunk := in[off:min(off+step, len(in))]
			pending := fw.d.Buffered() + len(chunk)
			closed = fw.d.Feed(chunk)
			if left := fw.d.Buffered(); left < 0 || left > pending {
				t.Fatalf("consumed %d of %d", pending-left, pending)
			}
		}
		out := fw.d.Output()
		br := bufio.NewReader(bytes.NewReader(out))
		var last serverFrame
		for {
			if _, err := br.Peek(1); err != nil {
				break // end of the output
			}
			fr, err := readServerFrame(br)
			if err != nil {
				t.Fatalf("malformed server output: %v (%x)", err, out)
			}
			if !fr.fin || fr.op.IsControl() && len(fr.payload) > ws.MaxControlPayload {
				t.Fatalf("bad server frame: op %v fin %v len %d", fr.op, fr.fin, len(fr.payload))
			}
			if last.op == ws.OpClose {
				t.Fatalf("frame after the server's close: op %v", fr.op)
			}
			last = fr
		}
		if closed && last.op != ws.OpClose {
			t.Fatalf("closed without a close frame (last op %v)", last.op)
		}
	})
}
