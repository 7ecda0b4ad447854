package websocket

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// handoffPair is a net/http server whose /ws handler hands WebSockets to srv, a
// switchyard server with an echo route on /ws whose connections join room.
type handoffPair struct {
	srv      *server.Server
	room     *Hub
	web      *httptest.Server
	returned sync.WaitGroup // net/http handlers that have returned
	mu       sync.Mutex
	errs     []error
}

func newHandoffPair(t *testing.T, h Handler) *handoffPair {
	t.Helper()
	p := &handoffPair{room: NewHub()}
	if h.OnMessage == nil {
		h.OnMessage = func(c *Conn, m Message) { _ = c.Write(m.Op, m.Payload) }
	}
	h.OnOpen = p.room.Add
	h.OnClose = func(c *Conn, _ StatusCode, _ string) { p.room.Remove(c) }
	p.srv, _, _ = runServer(t, server.Config{}, func(s *server.Server) {
		s.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{New(h)}})
	})
	p.web = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer p.returned.Done()
		if err := Handoff(p.srv, w, r); err != nil {
			p.mu.Lock()
			p.errs = append(p.errs, err)
			p.mu.Unlock()
		}
	}))
	t.Cleanup(p.web.Close)
	return p
}

// dial opens a connection to the net/http server and writes req (a handshake, maybe
// with frames behind it) in one write.
func (p *handoffPair) dial(t *testing.T, req string) (net.Conn, *bufio.Reader) {
	t.Helper()
	p.returned.Add(1)
	c := servertest.Dial(t, p.web.Listener.Addr())
	servertest.Write(t, c, req)
	return c, bufio.NewReader(c)
}

func (p *handoffPair) errors() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.errs...)
}

// TestHandoffFromNetHTTP: a WebSocket handshake a net/http server received is completed
// and served by switchyard's loop: the frame the client sent in the same packet as its
// request is echoed, pings get pongs, the close handshake completes, and switchyard's
// Stats and Hub count the connection.
func TestHandoffFromNetHTTP(t *testing.T) {
	p := newHandoffPair(t, Handler{})
	first := clientFrame(ws.OpText, true, []byte("sent with the handshake"))
	c, br := p.dial(t, handshake+"\r\n"+string(first))
	resp, _ := servertest.ReadResponse(t, br, "GET")
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	if op, got := readFrame(t, br); op != ws.OpText || string(got) != "sent with the handshake" {
		t.Fatalf("first frame: %v %q", op, got)
	}
	p.returned.Wait() // the net/http handler has returned: its goroutine holds nothing
	if errs := p.errors(); len(errs) > 0 {
		t.Fatalf("Handoff: %v", errs)
	}

	servertest.Write(t, c, string(clientFrame(ws.OpText, true, []byte("after"))))
	if op, got := readFrame(t, br); op != ws.OpText || string(got) != "after" {
		t.Fatalf("echo: %v %q", op, got)
	}
	servertest.Write(t, c, string(clientFrame(ws.OpPing, true, []byte("p"))))
	if op, got := readFrame(t, br); op != ws.OpPong || string(got) != "p" {
		t.Fatalf("ping: %v %q", op, got)
	}
	st := p.srv.Stats()
	if st.Open["websocket"] != 1 || st.Outcomes[server.Outcome{Status: 101, Reason: "websocket"}] != 1 || p.room.Len() != 1 {
		t.Fatalf("switchyard does not count the connection: open %v, outcomes %v, room %d", st.Open, st.Outcomes, p.room.Len())
	}

	servertest.Write(t, c, string(clientFrame(ws.OpClose, true, []byte{0x03, 0xe8})))
	if op, got := readFrame(t, br); op != ws.OpClose || len(got) < 2 || got[0] != 0x03 || got[1] != 0xe8 {
		t.Fatalf("close: %v %v", op, got)
	}
	servertest.ExpectClosed(t, br)
}

// TestHandoffNegotiatesDeflate: the route's permessage-deflate applies to a handed-off
// connection as to its own.
func TestHandoffNegotiatesDeflate(t *testing.T) {
	p := newHandoffPair(t, Handler{Compression: &ws.DeflateConfig{}})
	_, br := p.dial(t, handshake+"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
	resp, _ := servertest.ReadResponse(t, br, "GET")
	if resp.StatusCode != 101 || !strings.HasPrefix(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatalf("handshake: %d %v (handoff errors %v)", resp.StatusCode, resp.Header, p.errors())
	}
}

// TestHandoffRefusesBadHandshakes: a request that is not a valid handshake is answered
// through net/http, as a switchyard route answers it, and nothing is handed off.
func TestHandoffRefusesBadHandshakes(t *testing.T) {
	p := newHandoffPair(t, Handler{})
	cases := []struct {
		name, req string
		status    int
		body      string
		field     [2]string // a header field the answer must carry, beside its status and body
	}{
		{"no upgrade (RFC 6455 §4.2.1)", "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 426, "Upgrade: websocket", [2]string{}},
		{"version 8 (RFC 6455 §4.2.2)", strings.Replace(handshake, "Version: 13", "Version: 8", 1) + "\r\n", 426, "must be 13",
			[2]string{"Sec-WebSocket-Version", "13"}},
		{"short key (RFC 6455 §4.2.1)", strings.Replace(handshake, "dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=", 1) + "\r\n", 400, "Sec-WebSocket-Key", [2]string{}},
		{"POST (RFC 6455 §4.2.1)", strings.Replace(handshake, "GET", "POST", 1) + "Content-Length: 0\r\n\r\n", 400, "must be GET", [2]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, br := p.dial(t, tc.req)
			resp, body := servertest.ReadResponse(t, br, "GET")
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.body) {
				t.Fatalf("got %d %q, want %d with %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if tc.status == 426 && (resp.Header.Get("Upgrade") != "websocket" || resp.Header.Get("Connection") != "Upgrade") {
				t.Fatalf("426 without Upgrade: websocket and Connection: Upgrade (RFC 9110 §15.5.22): %v", resp.Header)
			}
			if name := tc.field[0]; name != "" && resp.Header.Get(name) != tc.field[1] {
				t.Fatalf("header %v, want %s: %s", resp.Header, name, tc.field[1])
			}
		})
	}
	p.returned.Wait()
	errs := p.errors()
	if len(errs) != len(cases) {
		t.Fatalf("errors %v, want %d", errs, len(cases))
	}
	for _, err := range errs {
		if !errors.Is(err, ErrBadHandshake) {
			t.Fatalf("error %v, want ErrBadHandshake", err)
		}
	}
	if n := p.srv.Open(); n != 0 {
		t.Fatalf("switchyard holds %d connections", n)
	}
}

// TestHandoffManyKeepsNoGoroutinePerConnection: 1,000 WebSockets opened through a
// net/http server are served by switchyard's loops, and after the handoff the process
// holds no goroutine per connection (net/http's have returned; the loops serve them all).
func TestHandoffManyKeepsNoGoroutinePerConnection(t *testing.T) {
	const n = 1000
	p := newHandoffPair(t, Handler{})
	base, baseFDs := runtime.NumGoroutine(), openFDs(t)
	conns := make([]net.Conn, n)
	readers := make([]*bufio.Reader, n)
	var wg sync.WaitGroup
	var failed atomic.Int32
	// Up to 200 handshakes at once: net/http runs that many handlers together, so a
	// handoff that kept (or pooled) a goroutine per connection would show.
	sem := make(chan struct{}, 200)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p.returned.Add(1)
			c, err := net.Dial("tcp", p.web.Listener.Addr().String())
			if err != nil {
				failed.Add(1)
				p.returned.Done()
				return
			}
			br := bufio.NewReader(c)
			if _, err := c.Write([]byte(handshake + "\r\n")); err != nil {
				failed.Add(1)
				return
			}
			resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
			if err != nil || resp.StatusCode != 101 {
				failed.Add(1)
				return
			}
			conns[i], readers[i] = c, br
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d handshakes failed; handoff errors: %v", f, n, p.errors())
	}
	p.returned.Wait()
	if errs := p.errors(); len(errs) > 0 {
		t.Fatalf("Handoff: %v", errs[0])
	}
	// Every connection echoes through its loop.
	for i, c := range conns {
		msg := []byte("m" + string(rune('a'+i%26)))
		servertest.Write(t, c, string(clientFrame(ws.OpBinary, true, msg)))
	}
	for i, br := range readers {
		if op, got := readFrame(t, br); op != ws.OpBinary || string(got) != "m"+string(rune('a'+i%26)) {
			t.Fatalf("conn %d echo: %v %q", i, op, got)
		}
	}
	if p.room.Len() != n || p.srv.Open() != n {
		t.Fatalf("room %d, open %d, want %d", p.room.Len(), p.srv.Open(), n)
	}
	// net/http's connection goroutines end just after their handlers; a few may still be
	// on their way out, but never one per connection.
	if g := runtime.NumGoroutine(); g > base+n/10 {
		t.Fatalf("%d goroutines with %d handed-off connections (baseline %d): the handoff keeps a goroutine per connection", g, n, base)
	}
	t.Logf("%d connections: %d goroutines (baseline %d), %d descriptors (baseline %d)", n, runtime.NumGoroutine(), base, openFDs(t), baseFDs)
	// Two descriptors per connection: the client's and the loop's. net/http's own was
	// closed once the loop had its duplicate.
	if fds := openFDs(t); fds > baseFDs+2*n+n/10 {
		t.Fatalf("%d descriptors open with %d connections (baseline %d): the hijacked ones were kept", fds, n, baseFDs)
	}
}

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting descriptors: %v", err)
	}
	return len(ents)
}

// TestHandoffOverTLSIsRefused: a TLS connection cannot leave crypto/tls; Handoff says so
// before hijacking, so the handler can still answer.
func TestHandoffOverTLSIsRefused(t *testing.T) {
	srv, _, _ := runServer(t, server.Config{}, func(s *server.Server) {
		s.Route("/ws", server.Route{Upgraders: []server.Upgrader{New(Handler{})}})
	})
	var got error
	web := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = Handoff(srv, w, r)
		http.Error(w, "served here instead", http.StatusTeapot)
	}))
	defer web.Close()
	req, _ := http.NewRequest("GET", web.URL+"/ws", nil)
	for _, line := range strings.Split(strings.TrimPrefix(handshake, "GET /ws HTTP/1.1\r\nHost: x\r\n"), "\r\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			req.Header.Set(k, v)
		}
	}
	resp, err := web.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || !errors.Is(got, server.ErrHandoffTLS) {
		t.Fatalf("status %d, error %v; want 418 and ErrHandoffTLS", resp.StatusCode, got)
	}
}

// TestHandoffPingsSilentPeers: the route's keep-alive applies to a handed-off
// connection: a silent client is pinged by the loop's timer wheel.
func TestHandoffPingsSilentPeers(t *testing.T) {
	p := newHandoffPair(t, Handler{PingInterval: 300 * time.Millisecond})
	_, br := p.dial(t, handshake+"\r\n")
	if resp, _ := servertest.ReadResponse(t, br, "GET"); resp.StatusCode != 101 {
		t.Fatalf("handshake: %d", resp.StatusCode)
	}
	if op, _ := readFrame(t, br); op != ws.OpPing {
		t.Fatalf("got %v, want a ping", op)
	}
}
