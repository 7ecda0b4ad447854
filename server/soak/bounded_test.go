package soak

import (
	"bytes"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/switchyard-dev/switchyard/server"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Flood sizes for TestSoakSlowReaderBounded. A server that buffers every answer for a
// client that never reads holds several times floodBytes (GET / answers 7 bytes per byte
// of request: 2 MiB of requests make 14 MiB of responses); one with a send budget or
// backpressure holds about its budget (1 MiB for WebSocket) plus what it read and has not
// processed, at most floodBytes: 3 MiB. floodSlack sits between the two.
const (
	floodBytes = 2 << 20
	floodSlack = 8 << 20
)

// TestSoakSlowReaderBounded sends requests or messages on one connection per protocol and
// never reads the answers: what the server holds for that connection must stay bounded
// (its send budget, flow control, or by no longer reading), not grow with what the client
// sends. The heap is measured after the server has processed everything it took in.
func TestSoakSlowReaderBounded(t *testing.T) {
	srv, addr := startSoakServer(t)
	cases := []struct {
		name     string
		open     func(c net.Conn, rng *rand.Rand) (next func() []byte, err error)
		progress func(server.Stats) uint64
	}{
		{
			name: "HTTP/1.1 pipelined requests whose responses are never read (RFC 9112 §9.3.2)",
			open: func(c net.Conn, _ *rand.Rand) (func() []byte, error) {
				chunk := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: soak\r\n\r\n"), 1000)
				return func() []byte { return chunk }, nil
			},
			progress: func(s server.Stats) uint64 { return s.Requests },
		},
		{
			name: "WebSocket messages whose echoes are never read: the send budget drops them",
			open: func(c net.Conn, rng *rand.Rand) (func() []byte, error) {
				w, err := wsUpgrade(c, rng, "")
				if err != nil {
					return nil, err
				}
				payload := bytes.Repeat([]byte{'x'}, 16<<10)
				return func() []byte { return w.appendFrame(nil, true, ws.OpBinary, false, payload) }, nil
			},
			progress: func(s server.Stats) uint64 { return s.MessagesIn },
		},
		{
			name: "HTTP/2 streams whose responses are never read: flow control and MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2, §6.9)",
			open: func(c net.Conn, _ *rand.Rand) (func() []byte, error) {
				if _, err := c.Write(append([]byte(http2.ClientPreface), h2FrameHeader(0, 0x4, 0, 0)...)); err != nil {
					return nil, err
				}
				// With HPACK's dynamic table every request after the first encodes to the
				// same few bytes: encode twice, then only the stream IDs change.
				var block bytes.Buffer
				enc := hpack.NewEncoder(&block)
				encode := func() []byte {
					block.Reset()
					for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "soak"}, {":path", "/"}} {
						_ = enc.WriteField(hpackField(f[0], f[1]))
					}
					return append([]byte(nil), block.Bytes()...)
				}
				first, rest := encode(), encode()
				id := uint32(1)
				return func() []byte {
					var out []byte
					for range 200 {
						b := rest
						if id == 1 {
							b = first
						}
						out = append(out, h2FrameHeader(len(b), 0x1, 0x4|0x1, id)...) // END_HEADERS|END_STREAM
						out = append(out, b...)
						id += 2
					}
					return out
				}, nil
			},
			progress: func(s server.Stats) uint64 { return s.Streams },
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !waitIdle(srv, 10*time.Second) {
				t.Fatalf("connections still open before the flood: %v", srv.Stats().Open)
			}
			_, base := settle()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer abort(c, rand.New(rand.NewPCG(1, 1)))
			_ = c.(*net.TCPConn).SetReadBuffer(slowReceiveBuffer)
			_ = c.SetDeadline(time.Now().Add(exchangeTimeout))
			next, err := tc.open(c, rand.New(rand.NewPCG(uint64(i), 7)))
			if err != nil {
				t.Fatal(err)
			}
			p0 := tc.progress(srv.Stats())
			written, stalled := 0, false
			for written < floodBytes {
				// A write that waits a second means the server stopped taking input:
				// backpressure, which is one of the ways to stay bounded.
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				n, err := c.Write(next())
				written += n
				if err != nil {
					stalled = true
					break
				}
			}
			// Let the server process what it took in: wait until its counter stops moving.
			last, still := tc.progress(srv.Stats()), time.Now()
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && time.Since(still) < 500*time.Millisecond; {
				time.Sleep(50 * time.Millisecond)
				if p := tc.progress(srv.Stats()); p != last {
					last, still = p, time.Now()
				}
			}
			_, held := settle()
			growth := held - base
			t.Logf("wrote %.1f MiB (stalled: %v); the server took %d requests/messages; heap in use grew by %.1f MiB (limit %d MiB)",
				mib(int64(written)), stalled, last-p0, mib(growth), floodSlack>>20)
			if growth > floodSlack {
				t.Errorf("the server holds %.1f MiB for one connection that does not read: nothing bounds what it "+
					"queues for a slow reader (no send budget, no backpressure)", mib(growth))
			}
		})
	}
}
