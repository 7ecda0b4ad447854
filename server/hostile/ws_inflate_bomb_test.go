package hostile

import (
	"bytes"
	"compress/flate"
	"fmt"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// Issue 14 item 6: decompression amplification. 16 MiB of zeros deflate to about 16 KB;
// /echo (which sends back what it receives) allows a message to inflate to at most 32
// times its compressed size, so each such message is refused with close 1009 (RFC 6455
// §7.4.1) instead of costing the loop 16 MiB to inflate and compress again. Twelve
// connections send one each while the well-behaved client on the same loop is served.
func TestWebSocketInflateBomb(t *testing.T) {
	srv := startServer(t, "")
	s := besiege(t, srv, nil)
	// 1 MiB of zeros compressed once, sixteen times over: each piece ends with a sync
	// flush, on a byte boundary, so together they are one DEFLATE stream of 16 MiB of
	// zeros (compressing 16 MiB outright takes seconds under the race detector).
	piece := append(deflateMessage(make([]byte, 1<<20), flate.BestCompression), 0, 0, 0xff, 0xff)
	bomb := bytes.TrimSuffix(bytes.Repeat(piece, 16), []byte{0, 0, 0xff, 0xff})
	const conns = 12
	attackers := make([]*wsClient, conns)
	for i := range attackers {
		attackers[i] = dialWS(t, srv.addr, "/echo", "permessage-deflate")
	}
	answers := make([]string, conns)
	var refused int
	rep := s.during(func() {
		for _, w := range attackers {
			if err := w.send(ws.OpBinary, ws.RSV1, bomb); err != nil {
				t.Errorf("sending the bomb: %v", err)
				return
			}
		}
		for i, w := range attackers {
			f, err := w.readFrame(false)
			switch {
			case err != nil:
				answers[i] = fmt.Sprintf("no frame: %v", err)
			case f.op == ws.OpClose:
				answers[i] = fmt.Sprintf("close %d %q", closeCode(f.payload), f.payload[min(2, len(f.payload)):])
				if closeCode(f.payload) == ws.StatusMessageTooBig {
					refused++
				}
			default:
				answers[i] = fmt.Sprintf("opcode %v, %d bytes (rsv %03b): the message was accepted", f.op, len(f.payload), f.rsv)
			}
		}
	})
	t.Logf("attack: %d messages of 16 MiB of zeros, %d bytes each compressed (%.1f KiB in all)",
		conns, len(bomb), float64(conns*len(bomb))/1024)
	t.Logf("the server answered the first with: %s", answers[0])
	rep.check(t, "inflate bombs", 0)
	if refused != conns {
		for i, a := range answers {
			t.Logf("connection %d: %s", i+1, a)
		}
		t.Errorf("%d of %d bombs were refused with 1009; the server inflates 16 MiB from %d bytes", refused, conns, len(bomb))
	}
}
