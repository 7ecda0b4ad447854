package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// splitEchoServer is a WebSocket echo server that writes each frame's header and payload
// in separate writes with a pause between, as gobwas's wsutil does: the load client must
// put the two halves together (RFC 6455 §5.2 frames are a byte stream, not packets).
func splitEchoServer(t *testing.T) string {
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
				for {
					msg, op, err := wsutil.ReadClientData(c)
					if err != nil {
						return
					}
					_ = ws.WriteHeader(c, ws.Header{Fin: true, OpCode: op, Length: int64(len(msg))})
					time.Sleep(time.Millisecond)
					_, _ = c.Write(msg)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestEchoClientJoinsFramesSplitAcrossReads(t *testing.T) {
	addr := splitEchoServer(t)
	p := EchoParams{Conns: 4, Size: 64, Duration: 500 * time.Millisecond, Warmup: 50 * time.Millisecond}
	m, err := RunEcho(context.Background(), addr, 0, p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Each echo takes ≥ 1 ms, so 4 connections give at most ~4k msgs/s; a client that
	// stalls on a split frame gets a handful at most.
	if m.Ops < 100 || m.Errors != 0 || m.Note != "" {
		t.Fatalf("%d echoes, %d errors (%s), note %q", m.Ops, m.Errors, m.ErrorSample, m.Note)
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
