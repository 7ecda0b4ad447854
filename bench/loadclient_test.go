package bench

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// echoServer is a WebSocket echo server for the load client's tests. Each frame's
// header and payload leave in separate writes with a pause between, as gobwas's wsutil
// does: the load client must put the two halves together (RFC 6455 §5.2 frames are a
// byte stream, not packets). ping sends a ping before every echo, whose pong must come
// back before the echo is written; closeAfter > 0 closes each connection after that
// many echoes.
func echoServer(t *testing.T, ping bool, closeAfter int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := ws.Upgrade(c); err != nil {
					return
				}
				for n := 1; ; n++ {
					msg, op, err := wsutil.ReadClientData(c)
					if err != nil {
						return
					}
					if ping {
						if err := wsutil.WriteServerMessage(c, ws.OpPing, []byte("are you there")); err != nil {
							return
						}
						h, err := ws.ReadHeader(c)
						if err != nil || h.OpCode != ws.OpPong {
							return // no pong: the client's echoes stop
						}
						if _, err := io.CopyN(io.Discard, c, h.Length); err != nil {
							return
						}
					}
					_ = ws.WriteHeader(c, ws.Header{Fin: true, OpCode: op, Length: int64(len(msg))})
					time.Sleep(time.Millisecond)
					_, _ = c.Write(msg)
					if n == closeAfter {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestEchoClient(t *testing.T) {
	tests := []struct {
		name       string
		size       int
		ping       bool
		closeAfter int
		wantErrs   bool
	}{
		{"joins frames split across reads", 64, false, 0, false},
		{"joins a frame larger than its read buffer", 200 << 10, false, 0, false},
		{"answers pings", 64, true, 0, false},
		{"counts a server that closes as an error", 64, false, 150, true}, // after the warm-up: ≥ 1 ms an echo
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := echoServer(t, tt.ping, tt.closeAfter)
			p := EchoParams{Conns: 4, Size: tt.size, Duration: 500 * time.Millisecond, Warmup: 50 * time.Millisecond}
			m, err := RunEcho(context.Background(), addr, 0, p, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErrs {
				if m.Errors == 0 {
					t.Fatalf("%d echoes and no error from servers that closed", m.Ops)
				}
				return
			}
			// Each echo takes ≥ 1 ms, so 4 connections give at most ~4k msgs/s; a client
			// that stalls on a split frame or an unanswered ping gets a handful at most.
			if m.Ops < 100 || m.Errors != 0 || m.Note != "" {
				t.Fatalf("%d echoes, %d errors (%s), note %q", m.Ops, m.Errors, m.ErrorSample, m.Note)
			}
		})
	}
}

func TestParseServerFrame(t *testing.T) {
	cases := []struct {
		name string // RFC 6455 §5.2 rule
		in   []byte
		ok   bool
		err  bool
		f    serverFrame
	}{
		{"7-bit length", []byte{0x82, 5}, true, false, serverFrame{fin: true, op: ws.OpBinary, hlen: 2, plen: 5}},
		{"16-bit extended length", []byte{0x81, 126, 1, 0}, true, false, serverFrame{fin: true, op: ws.OpText, hlen: 4, plen: 256}},
		{"64-bit extended length", []byte{0x02, 127, 0, 0, 0, 0, 0, 1, 0, 0}, true, false, serverFrame{op: ws.OpBinary, hlen: 10, plen: 65536}},
		{"RSV1 marks a compressed message (RFC 7692 §6)", []byte{0xc1, 0}, true, false, serverFrame{fin: true, rsv1: true, op: ws.OpText, hlen: 2}},
		{"incomplete head", []byte{0x82}, false, false, serverFrame{}},
		{"incomplete extended length", []byte{0x82, 126, 1}, false, false, serverFrame{}},
		{"server frames are not masked (§5.1)", []byte{0x82, 0x85}, false, true, serverFrame{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, ok, err := parseServerFrame(c.in)
			if (err != nil) != c.err || ok != c.ok {
				t.Fatalf("ok %v err %v", ok, err)
			}
			if ok && f != c.f {
				t.Fatalf("got %+v want %+v", f, c.f)
			}
		})
	}
}

func TestHandshakeAgainstSwitchyard(t *testing.T) {
	addr := startSwitchyard(t)
	p := HandshakeParams{Par: 4, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond}
	m, err := RunHandshake(context.Background(), addr, 0, p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Ops == 0 || m.Errors != 0 {
		t.Fatalf("%d upgrades, %d errors (%s)", m.Ops, m.Errors, m.ErrorSample)
	}
}

func TestHandshakeRejectedIsAnError(t *testing.T) {
	addr := startSwitchyard(t)
	// GET / is a plain HTTP route: no 101, every attempt must count as an error.
	p := HandshakeParams{Par: 2, Path: "/", Duration: 200 * time.Millisecond, Warmup: 10 * time.Millisecond}
	m, _ := RunHandshake(context.Background(), addr, 0, p, nil, nil)
	if m.Ops != 0 || m.Errors == 0 {
		t.Fatalf("%d upgrades, %d errors", m.Ops, m.Errors)
	}
}

func TestBroadcastAgainstSwitchyard(t *testing.T) {
	addr := startSwitchyard(t)
	p := BroadcastParams{Subs: 20, Size: 64, Window: 2, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond}
	m, err := RunBroadcast(context.Background(), addr, 0, p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Deliveries arriving while the window closes may be in the latencies but not in Ops:
	// at most one window's worth of broadcasts.
	if m.Ops == 0 || m.Errors != 0 || m.Latency.N < m.Ops || m.Latency.N > m.Ops+uint64(p.Subs*p.Window) {
		t.Fatalf("%d deliveries, %d errors (%s), %d latencies", m.Ops, m.Errors, m.ErrorSample, m.Latency.N)
	}
}
