package websocket

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// TestDeflateStateMemory measures what a connection's permessage-deflate state holds
// between messages, after one compressed message each way, per negotiated offer: with
// context takeover the server keeps its compressor (level 1) and the client's window as
// the inflate dictionary; below a 15-bit server window it compresses Huffman-only and
// keeps no compressor (RFC 7692 §7.1.2.1); without takeover it keeps nothing.
func TestDeflateStateMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	msg := bytes.Repeat([]byte(`{"id":1,"type":"tick","symbol":"SYD","price":101.25},`), 20)
	for _, c := range []struct {
		name  string
		offer string
		bound uint64 // bytes held per connection
	}{
		{"RFC 7692 §7.1.1 context takeover both ways", "permessage-deflate", 1 << 20},
		{"RFC 7692 §7.1.2.1 server_max_window_bits=10 keeps no compressor",
			"permessage-deflate; server_max_window_bits=10", 64 << 10},
		{"RFC 7692 §7.1.2.1 server_max_window_bits=10, client_max_window_bits=10",
			"permessage-deflate; server_max_window_bits=10; client_max_window_bits=10", 8 << 10},
		{"RFC 7692 §7.1.1 no context takeover keeps nothing",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover", 1 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			params, ok := ws.DeflateConfig{}.Negotiate([]byte(c.offer))
			if !ok {
				t.Fatalf("offer %q declined", c.offer)
			}
			client := params.NewClientDeflater(1)
			compressed := client.Compress(nil, msg)
			client.Release()

			const n = 16
			states := make([]*deflateState, n)
			gc := func(m *runtime.MemStats) {
				runtime.GC()
				runtime.GC() // and the pools' victim caches
				runtime.ReadMemStats(m)
			}
			var before, after runtime.MemStats
			gc(&before)
			for i := range states {
				d := &deflateState{params: params}
				_ = d.deflater().Compress(nil, msg)
				if _, err := d.inflater().Inflate(nil, compressed, 1<<20); err != nil {
					t.Fatal(err)
				}
				states[i] = d
			}
			gc(&after)
			per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
			runtime.KeepAlive(states)
			for _, d := range states {
				d.release()
			}
			t.Logf("%s: %s held per connection", c.offer, kib(per))
			if per > int64(c.bound) {
				t.Errorf("a connection holds %s, bound %s", kib(per), kib(int64(c.bound)))
			}
		})
	}
}

func kib(n int64) string { return fmt.Sprintf("%.1f KiB", float64(n)/1024) }
