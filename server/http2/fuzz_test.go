package http2

import (
	"testing"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/drive"
)

// FuzzH2Conn feeds arbitrary bytes, after a valid preface, to an HTTP/2 connection driven
// without a socket (drive.Conn), split into two reads at a fuzzed point: no input may
// panic, and what the connection holds stays bounded (streams by MAX_CONCURRENT_STREAMS,
// buffered bodies by the windows).
func FuzzH2Conn(f *testing.F) {
	seeds := [][]byte{
		nil,
		h2.AppendPing(nil, false, [8]byte{1}),
		h2.AppendWindowUpdate(nil, 0, 1<<20),
		h2.AppendRSTStream(nil, 1, h2.ErrCodeCancel),
		h2.AppendSettings(nil, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 1}),
		h2.AppendHeaders(nil, 1, []byte{0x82, 0x86, 0x84, 0x41, 0x01, 'x'}, true, 0),  // GET / http, :authority x
		h2.AppendHeaders(nil, 1, []byte{0x83, 0x86, 0x84, 0x41, 0x01, 'x'}, false, 0), // POST
		h2.AppendData(h2.AppendHeaders(nil, 1, []byte{0x83, 0x86, 0x84, 0x41, 0x01, 'x'}, false, 0), 1, []byte("body"), true),
		h2.AppendHeaders(nil, 3, []byte{0x82, 0x86, 0x84}, false, 0)[:12], // cut inside the block
		{0, 0, 0, 9, 0, 0, 0, 0, 1},                // CONTINUATION without HEADERS
		{0, 0, 4, 0xfa, 0, 0, 0, 0, 1, 1, 2, 3, 4}, // unknown type
	}
	for _, s := range seeds {
		f.Add(s, uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		srv := server.New(server.Config{Logger: discard})
		helloRoutes(srv)
		srv.Upgrade(New(Config{}))
		c := drive.New(srv)
		closing := c.Feed(clientPreface())
		cut := min(int(split), len(in))
		for _, part := range [][]byte{in[:cut], in[cut:]} {
			if closing {
				break
			}
			closing = c.Feed(part) // what the last read left unconsumed comes first
		}
		h, ok := c.Protocol().(*h2Conn)
		if !ok {
			t.Fatalf("protocol %T", c.Protocol())
		}
		if len(h.streams) > int(h.cfg.MaxConcurrentStreams) {
			t.Fatalf("%d streams open, limit %d", len(h.streams), h.cfg.MaxConcurrentStreams)
		}
		if h.bufferedBody > h.cfg.MaxBufferedBody+int(h.cfg.ConnWindow) {
			t.Fatalf("%d body bytes buffered", h.bufferedBody)
		}
		c.Close() // Protocol.Closed, as when the socket goes
		if h.bufferedBody != 0 {
			t.Fatalf("%d body bytes still accounted after Closed", h.bufferedBody)
		}
	})
}
