package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	gws "github.com/gobwas/ws"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// BenchmarkTLSEcho is a 64-byte WebSocket echo over one connection, over TLS (records
// decrypted and encrypted on the loop) and in cleartext for comparison. The client reuses
// its buffers, so allocs/op counts the server's allocations and crypto/tls's on both
// sides.
func BenchmarkTLSEcho(b *testing.B) {
	for _, useTLS := range []bool{false, true} {
		name := "cleartext"
		if useTLS {
			name = "TLS1.3"
		}
		b.Run(name, func(b *testing.B) {
			conn := dialEcho(b, useTLS)
			frame := gws.MaskFrameInPlace(gws.NewFrame(gws.OpBinary, true, make([]byte, 64)))
			out, err := gws.CompileFrame(frame)
			if err != nil {
				b.Fatal(err)
			}
			echo := make([]byte, 2+64)
			b.ReportAllocs()
			b.SetBytes(64)
			for b.Loop() {
				if _, err := conn.Write(out); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(conn, echo); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// dialEcho starts a one-loop server and returns a WebSocket connection to its /echo.
func dialEcho(b testing.TB, useTLS bool) net.Conn {
	d := gws.Dialer{Timeout: 10 * time.Second}
	url := "ws://"
	var addr string
	if useTLS {
		f := startTLS(b, server.Config{Loops: 1}, true)
		d.TLSConfig, url, addr = f.clientConfig("http/1.1"), "wss://", f.addr()
	} else {
		srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 1})
		installTLSTestRoutes(srv, true)
		servertest.Start(b, srv)
		addr = srv.Addr().String()
	}
	conn, br, _, err := d.Dial(context.Background(), url+addr+"/echo")
	if err != nil || br != nil {
		b.Fatalf("dial: %v (buffered reader: %v)", err, br != nil)
	}
	b.Cleanup(func() { _ = conn.Close() })
	return conn
}

// The allocation budget of a 64-byte echo round trip over real sockets, counted
// process-wide (client and server): none in cleartext; over TLS one per record read by
// each side, the reader adapter crypto/tls allocates in readFromUntil (the server's
// write path allocates nothing).
func TestTLSEchoAllocations(t *testing.T) {
	for _, tc := range []struct {
		useTLS bool
		budget float64
	}{{false, 0}, {true, 2}} {
		t.Run(fmt.Sprintf("TLS=%v", tc.useTLS), func(t *testing.T) {
			if tc.useTLS && tlsRaceEnabled {
				t.Skip("sync.Pool drops items on purpose under the race detector")
			}
			conn := dialEcho(t, tc.useTLS)
			out, err := gws.CompileFrame(gws.MaskFrameInPlace(gws.NewFrame(gws.OpBinary, true, make([]byte, 64))))
			if err != nil {
				t.Fatal(err)
			}
			echo := make([]byte, 2+64)
			allocs := testing.AllocsPerRun(500, func() {
				if _, err := conn.Write(out); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(conn, echo); err != nil {
					t.Fatal(err)
				}
			})
			if allocs > tc.budget {
				t.Fatalf("%v allocations per round trip, budget %v", allocs, tc.budget)
			}
		})
	}
}
