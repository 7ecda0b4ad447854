package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// hangGuard bounds a run whose end a test waits for: a run ends as soon as it has shown
// what the test wants, however slow the machine, and this only turns a hang into a failure.
const hangGuard = time.Minute

// waitFor polls cond until it holds (true) or ctx ends (false).
func waitFor(ctx context.Context, cond func() bool) bool {
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Millisecond):
		}
	}
	return true
}

// runUntil returns a context that ends once cond holds, for a run whose Duration is
// hangGuard: the run stops when it has done what the test wants, not after a set time.
func runUntil(t *testing.T, cond func() bool) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		if waitFor(ctx, cond) {
			cancel()
		}
	}()
	return ctx
}

// testEchoServer is a WebSocket echo server for the load client's tests. Each frame's
// header and payload leave in separate writes with a pause between, as gobwas's wsutil
// does: the load client must put the two halves together (RFC 6455 §5.2 frames are a
// byte stream, not packets). With ping it sends a ping before every echo, whose pong
// must come back before the echo is written.
type testEchoServer struct {
	addr string
	// stop, once closed, makes each connection end after its next echo: it half-closes
	// (FIN), reads until the client closes its side, then sends on closed.
	stop   chan struct{}
	closed chan struct{}

	mu   sync.Mutex
	msgs []int // messages read, per connection in accept order
}

func echoServer(t *testing.T, ping bool) *testEchoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &testEchoServer{addr: ln.Addr().String(), stop: make(chan struct{}), closed: make(chan struct{}, 64)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c, ping)
		}
	}()
	return s
}

func (s *testEchoServer) serve(c net.Conn, ping bool) {
	defer c.Close()
	if _, err := ws.Upgrade(c); err != nil {
		return
	}
	s.mu.Lock()
	i := len(s.msgs)
	s.msgs = append(s.msgs, 0)
	s.mu.Unlock()
	for {
		msg, op, err := wsutil.ReadClientData(c)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.msgs[i]++
		s.mu.Unlock()
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
		time.Sleep(time.Millisecond) // splits the frame across the client's reads
		_, _ = c.Write(msg)
		select {
		case <-s.stop:
			_ = c.(*net.TCPConn).CloseWrite()
			_, _ = io.Copy(io.Discard, c)
			s.closed <- struct{}{}
			return
		default:
		}
	}
}

// eachRead reports whether conns connections have each sent at least n messages. With
// one message in flight a client sends its next only once the last echo is in, so each
// has had n-1 echoes back.
func (s *testEchoServer) eachRead(conns, n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.msgs) < conns {
		return false
	}
	for _, m := range s.msgs {
		if m < n {
			return false
		}
	}
	return true
}

func (s *testEchoServer) reads() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.msgs)
}

func TestEchoClient(t *testing.T) {
	tests := []struct {
		name string
		size int
		ping bool
	}{
		{"joins frames split across reads", 64, false},
		{"joins a frame larger than its read buffer", 200 << 10, false},
		{"answers pings", 64, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := echoServer(t, tt.ping)
			p := EchoParams{Conns: 4, Size: tt.size, Duration: hangGuard, Warmup: 10 * time.Millisecond}
			// Every connection keeps going, echo after echo: one that stalls on a split
			// frame or an unanswered ping stops its count, and the run meets the guard.
			const perConn, measured = 30, 50
			live := &Live{}
			ctx := runUntil(t, func() bool { return live.load() >= measured && srv.eachRead(p.Conns, perConn) })
			m, err := RunEcho(ctx, srv.addr, 0, p, nil, live)
			if err != nil {
				t.Fatal(err)
			}
			// RunEcho compares every echo with what it sent: a wrong one is an error.
			if m.Ops < measured || !srv.eachRead(p.Conns, perConn) || m.Errors != 0 {
				t.Fatalf("%d echoes measured, messages per connection %s, %d errors (%s)", m.Ops, srv.reads(), m.Errors, m.ErrorSample)
			}
		})
	}
	t.Run("counts a server that closes as an error", func(t *testing.T) {
		srv := echoServer(t, false)
		p := EchoParams{Conns: 4, Size: 64, Duration: hangGuard, Warmup: 10 * time.Millisecond}
		live := &Live{}
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go func() {
			// Once an echo is measured, errors count: then the server closes every
			// connection, and the run ends when the client has closed each in turn.
			if !waitFor(ctx, func() bool { return live.load() > 0 }) {
				return
			}
			close(srv.stop)
			for range p.Conns {
				select {
				case <-srv.closed:
				case <-ctx.Done():
					return
				}
			}
			cancel()
		}()
		m, err := RunEcho(ctx, srv.addr, 0, p, nil, live)
		if err != nil {
			t.Fatal(err)
		}
		if m.Errors < uint64(p.Conns) || !strings.Contains(m.ErrorSample, errServerClosed.Error()) {
			t.Fatalf("%d echoes, %d errors (%q) from %d connections the server closed", m.Ops, m.Errors, m.ErrorSample, p.Conns)
		}
	})
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
	const want = 20
	live := &Live{}
	p := HandshakeParams{Par: 4, Duration: hangGuard, Warmup: 10 * time.Millisecond}
	m, err := RunHandshake(runUntil(t, func() bool { return live.load() >= want }), addr, 0, p, nil, live)
	if err != nil {
		t.Fatal(err)
	}
	if m.Ops < want || m.Errors != 0 || m.Latency.N < m.Ops {
		t.Fatalf("%d upgrades, %d errors (%s), %d latencies", m.Ops, m.Errors, m.ErrorSample, m.Latency.N)
	}
}

// TestHandshakeRejectedIsAnError runs against a server that upgrades until the client
// has counted an upgrade, then answers 200 with a page, as a plain HTTP route does.
func TestHandshakeRejectedIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var rejecting atomic.Bool
	var upgraded, rejected atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			reject := rejecting.Load()
			if reject {
				rejected.Add(1)
			}
			go func() {
				defer c.Close()
				if !reject {
					if _, err := ws.Upgrade(c); err == nil {
						upgraded.Add(1)
					}
				} else if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n")
				}
				_, _ = io.Copy(io.Discard, c) // until the client closes
			}()
		}
	}()

	p := HandshakeParams{Par: 2, Duration: hangGuard, Warmup: 10 * time.Millisecond}
	live := &Live{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		// An upgrade counted means the run measures. Each of the Par handshakes in flight
		// opens its next connection only when its last one is over, so Par+1 connections
		// that met a rejection mean one rejection was over while the run measured.
		if !waitFor(ctx, func() bool { return live.load() > 0 }) {
			return
		}
		rejecting.Store(true)
		if waitFor(ctx, func() bool { return rejected.Load() > int64(p.Par) }) {
			cancel()
		}
	}()
	m, err := RunHandshake(ctx, ln.Addr().String(), 0, p, nil, live)
	if err != nil {
		t.Fatal(err)
	}
	if m.Ops == 0 || m.Ops > uint64(upgraded.Load()) || m.Errors == 0 || m.ErrorSample != errNot101.Error() {
		t.Fatalf("%d upgrades counted of %d, %d errors (%s) after %d rejections", m.Ops, upgraded.Load(), m.Errors, m.ErrorSample, rejected.Load())
	}
}

func TestBroadcastAgainstSwitchyard(t *testing.T) {
	addr := startSwitchyard(t)
	// Stall is the guard too: a broadcast that never reaches every subscriber fails the
	// test as an error, a slow one does not.
	p := BroadcastParams{Subs: 20, Size: 64, Window: 2, Duration: hangGuard, Warmup: 10 * time.Millisecond, Stall: hangGuard}
	want := uint64(10 * p.Subs)
	live := &Live{}
	m, err := RunBroadcast(runUntil(t, func() bool { return live.load() >= want }), addr, 0, p, nil, live)
	if err != nil {
		t.Fatal(err)
	}
	// Deliveries arriving while the window closes may be in the latencies but not in Ops:
	// at most one window's worth of broadcasts.
	if m.Ops < want || m.Errors != 0 || m.Latency.N < m.Ops || m.Latency.N > m.Ops+uint64(p.Subs*p.Window) {
		t.Fatalf("%d deliveries, %d errors (%s), %d latencies", m.Ops, m.Errors, m.ErrorSample, m.Latency.N)
	}
}
