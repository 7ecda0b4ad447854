package server

import (
	"bytes"
	"testing"
)

// A corked turn keeps its output in order and in one piece up to corkLimit; past it the
// output goes to the socket at once, so a turn can never hold more than that uncounted.
func TestCorkJoinsATurnInOrderWithinItsLimit(t *testing.T) {
	for _, tc := range []struct {
		name        string
		pieces      int
		multiplexed bool
		wantWrites  int
	}{
		{"not multiplexed: a write per flush", 4, false, 4},
		{"a small turn: one write", 4, true, 1},
		{"a turn past the limit: written as it fills", 3 * corkLimit / 1000, true, 3}, // 66 KB, 66 KB, then the rest
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{})
			tr := &memTransport{record: true}
			c := &Conn{tr: tr, srv: s, loop: newLoop(s, nil, 0)}
			c.SetMultiplexing(tc.multiplexed)
			writes := 0
			counting := &countingTransport{memTransport: tr, writes: &writes}
			c.tr = counting
			corked := c.loop.cork(c)
			var want []byte
			for i := 0; i < tc.pieces; i++ {
				piece := bytes.Repeat([]byte{byte('a' + i%26)}, 1000)
				want = append(want, piece...)
				c.Write(piece)
				c.loop.flush()
				if len(c.loop.corkBuf) >= corkLimit {
					t.Fatalf("the cork holds %d bytes, limit %d", len(c.loop.corkBuf), corkLimit)
				}
			}
			if corked {
				c.loop.uncork()
			}
			if !bytes.Equal(tr.out, want) || writes != tc.wantWrites {
				t.Fatalf("%d writes (want %d), %d bytes in order: %v", writes, tc.wantWrites, len(tr.out), bytes.Equal(tr.out, want))
			}
		})
	}
}

// countingTransport counts the writes that reach the socket.
type countingTransport struct {
	*memTransport
	writes *int
}

func (t *countingTransport) Write(p []byte) (int, error) {
	*t.writes++
	return t.memTransport.Write(p)
}

func (t *countingTransport) Writev(bs [][]byte) (int, error) {
	*t.writes++
	return t.memTransport.Writev(bs)
}
