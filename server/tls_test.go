package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	gws "github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"golang.org/x/net/http2"

	"github.com/switchyard-dev/switchyard/server"
	switchyardh2 "github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// tlsFixture is a TLS server on a loopback port with a throw-away certificate, and the
// client configuration that trusts it.
type tlsFixture struct {
	srv    *server.Server
	client *tls.Config
}

func (f *tlsFixture) addr() string { return f.srv.Addr().String() }

// clientConfig returns a copy of the trusting client configuration with ALPN protos.
func (f *tlsFixture) clientConfig(protos ...string) *tls.Config {
	c := f.client.Clone()
	c.NextProtos = protos
	return c
}

// startTLS (on a loopback port unless cfg.Addr is set) serves / (text), /remote (the client's address), /echo (WebSocket echo, 426
// otherwise) and /big (a body of n bytes given by ?n, default 256 KiB) over TLS, with
// HTTP/2 unless noH2.
func startTLS(t testing.TB, cfg server.Config, noH2 bool) *tlsFixture {
	t.Helper()
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLS == nil {
		cfg.TLS = &tls.Config{}
	}
	cfg.TLS.Certificates = []tls.Certificate{cert}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	srv := server.New(cfg)
	installTLSTestRoutes(srv, noH2)
	servertest.Start(t, srv)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return &tlsFixture{srv: srv, client: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
}

// installTLSTestRoutes installs startTLS's routes.
func installTLSTestRoutes(srv *server.Server, noH2 bool) {
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/plain")
		_, _ = w.WriteString("hello over TLS\n")
	}})
	// /remote answers the client's address as handlers see it (Request.RemoteAddr).
	srv.Route("/remote", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		_, _ = w.WriteString(r.RemoteAddr().String())
	}})
	big := bytes.Repeat([]byte("0123456789abcdef"), 16<<10)
	srv.Route("/big", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		_, _ = w.Write(big)
	}})
	srv.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnMessage: func(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) },
	})}})
	// /pool answers from the worker pool: the connection holds its input meanwhile.
	srv.Route("/pool", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
		time.Sleep(time.Millisecond)
		_, _ = w.WriteString("pool " + string(r.Path))
	}})
	// /push sends from another goroutine (WriteAsync): encrypted on the loop all the same.
	srv.Route("/push", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnOpen: func(c *websocket.Conn) {
			go func() {
				for i := range 3 {
					_ = c.WriteAsync(websocket.OpText, []byte(fmt.Sprintf("pushed %d", i)))
				}
			}()
		},
	})}})
	// /stream streams 16 MiB in 64 KiB parts (TestTLSStreamToALateReader).
	srv.Route("/stream", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
		part := bytes.Repeat([]byte("s"), 64<<10)
		for range 256 {
			_, _ = w.Write(part)
			if w.Flush() != nil {
				return
			}
		}
	}})
	if !noH2 {
		srv.Upgrade(switchyardh2.New(switchyardh2.Config{}))
	}
}

func dialTLS(t *testing.T, addr string, cfg *tls.Config) *tls.Conn {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// tlsGet sends a GET over c with HTTP/1.1 and returns the response.
func tlsGet(t *testing.T, c net.Conn, br *bufio.Reader, path string) (*http.Response, string) {
	t.Helper()
	servertest.Write(t, c, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\n\r\n")
	return servertest.ReadResponse(t, br, "GET")
}

// ALPN decides the protocol: "h2" goes straight to HTTP/2 (RFC 9113 §3.2), "http/1.1" or
// no ALPN to HTTP/1.1; a server without HTTP/2 does not offer h2.
func TestTLSProtocolByALPN(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offer  []string
		noH2   bool
		want   string // negotiated protocol
		wantH2 bool
		// counted is the TLSStats counter the handshake must have raised to 1
		counted func(server.TLSStats) int64
		open    string // the Stats.Open protocol that counts the connection ("h2c" is cleartext)
	}{
		{"h2 offered first gets HTTP/2", []string{"h2", "http/1.1"}, false, "h2", true,
			func(s server.TLSStats) int64 { return s.ALPNH2 }, "h2"},
		{"http/1.1 gets HTTP/1.1", []string{"http/1.1"}, false, "http/1.1", false,
			func(s server.TLSStats) int64 { return s.ALPNHTTP11 }, "http1"},
		{"no ALPN gets HTTP/1.1", nil, false, "", false,
			func(s server.TLSStats) int64 { return s.ALPNNone }, "http1"},
		{"h2 not offered by a server without HTTP/2", []string{"h2", "http/1.1"}, true, "http/1.1", false,
			func(s server.TLSStats) int64 { return s.ALPNHTTP11 }, "http1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startTLS(t, server.Config{}, tc.noH2)
			defer func() {
				if st := f.srv.TLSStats(); !t.Failed() && (tc.counted(st) != 1 || st.Completed != 1 || st.TLS13 != 1) {
					t.Errorf("TLSStats %+v: want one TLS 1.3 handshake counted under its ALPN outcome", st)
				}
			}()
			if tc.wantH2 {
				tr := &http2.Transport{TLSClientConfig: f.clientConfig(tc.offer...)}
				defer tr.CloseIdleConnections()
				resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + f.addr() + "/")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.ProtoMajor != 2 || resp.TLS == nil || resp.TLS.NegotiatedProtocol != tc.want || string(body) != "hello over TLS\n" {
					t.Fatalf("got %s, ALPN %q, body %q", resp.Proto, resp.TLS.NegotiatedProtocol, body)
				}
				expectOpenAs(t, f.srv, tc.open)
				return
			}
			c := dialTLS(t, f.addr(), f.clientConfig(tc.offer...))
			if got := c.ConnectionState().NegotiatedProtocol; got != tc.want {
				t.Fatalf("ALPN: got %q, want %q", got, tc.want)
			}
			br := bufio.NewReader(c)
			for range 2 { // keep-alive over the same session
				resp, body := tlsGet(t, c, br, "/")
				if resp.StatusCode != 200 || resp.ProtoMajor != 1 || body != "hello over TLS\n" {
					t.Fatalf("got %d %s %q", resp.StatusCode, resp.Proto, body)
				}
			}
			resp, body := tlsGet(t, c, br, "/big") // many records, beyond the first ones' small size
			if resp.StatusCode != 200 || len(body) != 256<<10 {
				t.Fatalf("/big: got %d, %d bytes", resp.StatusCode, len(body))
			}
			expectOpenAs(t, f.srv, tc.open)
		})
	}
}

// expectOpenAs checks that the server's one open connection counts under protocol.
func expectOpenAs(t *testing.T, s *server.Server, protocol string) {
	t.Helper()
	open := s.Stats().Open
	var total int64
	for _, n := range open {
		total += n
	}
	if open[protocol] != 1 || total != 1 {
		t.Fatalf("Stats().Open %v: want the one connection under %q", open, protocol)
	}
}

// Over TLS only ALPN selects HTTP/2 (RFC 9113 §3.3: prior knowledge is for cleartext): the
// HTTP/2 preface on a session that negotiated http/1.1, or nothing, is not an HTTP/2
// connection but a request HTTP/1.1 refuses (505), as on a server without HTTP/2.
func TestTLSPrefaceWithoutALPNH2IsNotHTTP2(t *testing.T) {
	f := startTLS(t, server.Config{}, false)
	for _, offer := range [][]string{{"http/1.1"}, nil} {
		t.Run(fmt.Sprint(offer), func(t *testing.T) {
			c := dialTLS(t, f.addr(), f.clientConfig(offer...))
			servertest.Write(t, c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"+"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
			resp, body := servertest.ReadResponse(t, bufio.NewReader(c), "GET")
			if resp.StatusCode != 505 {
				t.Fatalf("got %d %q, want 505", resp.StatusCode, body)
			}
		})
	}
}

// Pipelined requests over TLS to a worker-pool route (the connection holds its decrypted
// input while a handler runs off the loop) are answered whole and in order.
func TestTLSPipelinedToWorkerPool(t *testing.T) {
	f := startTLS(t, server.Config{}, false)
	c := dialTLS(t, f.addr(), f.clientConfig("http/1.1"))
	var req strings.Builder
	for range 5 {
		req.WriteString("GET /pool HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	}
	servertest.Write(t, c, req.String())
	br := bufio.NewReader(c)
	for i := range 5 {
		if resp, body := servertest.ReadResponse(t, br, "GET"); resp.StatusCode != 200 || body != "pool /pool" {
			t.Fatalf("pair %d: pool answered %d %q", i, resp.StatusCode, body)
		}
		if resp, body := servertest.ReadResponse(t, br, "GET"); resp.StatusCode != 200 || body != "hello over TLS\n" {
			t.Fatalf("pair %d: loop answered %d %q", i, resp.StatusCode, body)
		}
	}
}

// An h2c upgrade request over TLS is served over HTTP/1.1: h2c is HTTP/2 in cleartext
// only (RFC 9113 §3.2).
func TestTLSIgnoresH2CUpgrade(t *testing.T) {
	f := startTLS(t, server.Config{}, false)
	c := dialTLS(t, f.addr(), f.clientConfig("http/1.1"))
	servertest.Write(t, c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n")
	resp, body := servertest.ReadResponse(t, bufio.NewReader(c), "GET")
	if resp.StatusCode != 200 || resp.ProtoMajor != 1 || body != "hello over TLS\n" {
		t.Fatalf("got %d %s %q", resp.StatusCode, resp.Proto, body)
	}
}

// A WebSocket upgrade over TLS (ALPN http/1.1) works as in cleartext: messages of every
// size cross record boundaries both ways, and a request split byte by byte still upgrades.
func TestTLSWebSocketEcho(t *testing.T) {
	f := startTLS(t, server.Config{}, false)
	d := gws.Dialer{TLSConfig: f.clientConfig("http/1.1"), Timeout: 10 * time.Second}
	conn, br, _, err := d.Dial(context.Background(), "wss://"+f.addr()+"/echo")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	var rw io.ReadWriter = conn
	if br != nil {
		rw = struct {
			io.Reader
			io.Writer
		}{io.MultiReader(br, conn), conn}
	}
	for _, size := range []int{0, 1, 125, 16 << 10, 100 << 10, 1 << 20} {
		msg := bytes.Repeat([]byte{'w'}, size)
		if err := wsutil.WriteClientBinary(rw, msg); err != nil {
			t.Fatal(err)
		}
		got, err := wsutil.ReadServerBinary(rw)
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes: echo of %d bytes differs", size, len(got))
		}
	}
	// Messages sent from another goroutine arrive whole and in order.
	push, br, _, err := d.Dial(context.Background(), "wss://"+f.addr()+"/push")
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()
	_ = push.SetDeadline(time.Now().Add(10 * time.Second))
	var pr io.ReadWriter = push
	if br != nil {
		pr = struct {
			io.Reader
			io.Writer
		}{io.MultiReader(br, push), push}
	}
	for i := range 3 {
		got, err := wsutil.ReadServerText(pr)
		if want := fmt.Sprintf("pushed %d", i); err != nil || string(got) != want {
			t.Fatalf("push %d: %q, %v", i, got, err)
		}
	}
	// Plain GET on the WebSocket route over TLS: 426, as in cleartext.
	c := dialTLS(t, f.addr(), f.clientConfig("http/1.1"))
	resp, _ := tlsGet(t, c, bufio.NewReader(c), "/echo")
	if resp.StatusCode != 426 {
		t.Fatalf("GET /echo: got %d, want 426", resp.StatusCode)
	}
}

// TLS 1.2 and 1.3 only: older clients are refused whatever tls.Config.MinVersion says.
func TestTLSVersions(t *testing.T) {
	f := startTLS(t, server.Config{TLS: &tls.Config{MinVersion: tls.VersionTLS10}}, false)
	for _, tc := range []struct {
		name    string
		version uint16
		ok      bool
	}{
		{"TLS 1.0 refused", tls.VersionTLS10, false},
		{"TLS 1.1 refused", tls.VersionTLS11, false},
		{"TLS 1.2", tls.VersionTLS12, true},
		{"TLS 1.3", tls.VersionTLS13, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := f.clientConfig("http/1.1")
			cfg.MinVersion, cfg.MaxVersion = tc.version, tc.version
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", f.addr(), cfg)
			if !tc.ok {
				if err == nil {
					_ = c.Close()
					t.Fatal("handshake succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if v := c.ConnectionState().Version; v != tc.version {
				t.Fatalf("version %x", v)
			}
		})
	}
}

// Session tickets: a second connection with the client's session cache resumes.
func TestTLSSessionResumption(t *testing.T) {
	f := startTLS(t, server.Config{}, false)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			cfg := f.clientConfig("http/1.1")
			cfg.MaxVersion = version
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			for i, wantResume := range []bool{false, true} {
				c := dialTLS(t, f.addr(), cfg)
				// A request and its answer: a TLS 1.3 client stores the ticket as it reads.
				if resp, _ := tlsGet(t, c, bufio.NewReader(c), "/"); resp.StatusCode != 200 {
					t.Fatalf("connection %d: %d", i, resp.StatusCode)
				}
				if got := c.ConnectionState().DidResume; got != wantResume {
					t.Fatalf("connection %d: DidResume %v, want %v", i, got, wantResume)
				}
				_ = c.Close()
			}
		})
	}
}

// clientHello captures the first record a crypto/tls client sends.
func clientHello(t *testing.T) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer b.Close()
	go func() { _ = tls.Client(a, &tls.Config{ServerName: "localhost"}).Handshake(); _ = a.Close() }()
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(b, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(b, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}

// A client that stalls in its handshake is closed at TLSHandshakeTimeout, and one that
// sends garbage at once; the server keeps serving others.
func TestTLSHandshakeEnds(t *testing.T) {
	f := startTLS(t, server.Config{TLSHandshakeTimeout: 500 * time.Millisecond}, false)
	hello := clientHello(t)
	for _, tc := range []struct {
		name string
		send []byte
	}{
		{"silent client", nil},
		{"half a record header", hello[:3]},
		{"part of a ClientHello's record", hello[:20]},
		{"ClientHello, then nothing", hello},
		{"garbage instead of a ClientHello", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := servertest.Dial(t, f.srv.Addr())
			if len(tc.send) > 0 {
				servertest.Write(t, c, string(tc.send))
			}
			// Whatever the server answered (a flight, an alert), the connection must end.
			if _, err := io.Copy(io.Discard, c); err != nil {
				var ne net.Error
				if ok := asNetError(err, &ne); ok && ne.Timeout() {
					t.Fatal("the connection stayed open")
				}
			}
		})
	}
	c := dialTLS(t, f.addr(), f.clientConfig("http/1.1"))
	if resp, _ := tlsGet(t, c, bufio.NewReader(c), "/"); resp.StatusCode != 200 {
		t.Fatalf("others: %d", resp.StatusCode)
	}
	if st := f.srv.TLSStats(); st.TimedOut < 4 {
		t.Fatalf("TLSStats %+v: want 4 timeouts at least", st)
	}
	// Every handshake has ended, its goroutine and its slot under MaxTLSHandshakes given
	// back (one that waited for the rest of a record once spun forever on the closed wire).
	for deadline := time.Now().Add(time.Minute); f.srv.TLSStats().InFlight != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("handshakes still in flight: %+v", f.srv.TLSStats())
		}
	}
}

func asNetError(err error, ne *net.Error) bool {
	e, ok := err.(net.Error)
	if ok {
		*ne = e
	}
	return ok
}

// A flood of ClientHellos that never finish holds at most MaxTLSHandshakes goroutines;
// the rest are closed at once, and once the flood is gone handshakes work again.
func TestTLSHandshakeCap(t *testing.T) {
	const capN, flood = 4, 40
	f := startTLS(t, server.Config{MaxTLSHandshakes: capN, TLSHandshakeTimeout: time.Minute}, false)
	hello := clientHello(t)
	before := runtime.NumGoroutine()
	var conns []net.Conn
	refused := 0
	for range flood {
		c := servertest.Dial(t, f.srv.Addr())
		servertest.Write(t, c, string(hello))
		conns = append(conns, c)
	}
	for _, c := range conns {
		// A handshake in flight answers with its flight and waits; a refused one is
		// closed without a byte.
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(make([]byte, 1))
		if n == 0 && err != nil && !isTimeout(err) {
			refused++
		}
	}
	st := f.srv.TLSStats()
	if refused != flood-capN || st.Refused != flood-capN || st.InFlight != capN {
		t.Fatalf("%d of %d closed at once, stats %+v; want %d refused, %d in flight", refused, flood, st, flood-capN, capN)
	}
	if g := runtime.NumGoroutine() - before; g > capN+8 {
		t.Fatalf("%d more goroutines with %d handshakes in flight", g, capN)
	}
	for _, c := range conns {
		_ = c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.srv.TLSStats().InFlight > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	c := dialTLS(t, f.addr(), f.clientConfig("http/1.1"))
	if resp, _ := tlsGet(t, c, bufio.NewReader(c), "/"); resp.StatusCode != 200 {
		t.Fatalf("after the flood: %d", resp.StatusCode)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// A TLS client that asks for large responses and never reads: the ciphertext queued for
// it counts against the send budget, so the server stops reading its requests; the
// connection keeps at most about a budget of output (the server's memory does not grow
// with what the client asks for), and other clients are served meanwhile.
func TestTLSNonReaderStaysWithinSendBudget(t *testing.T) {
	f := startTLS(t, server.Config{SendBudget: 1 << 20, Loops: 1}, false)
	// A small receive buffer, set before connecting (set later, the kernel would drop
	// what the window already allowed), so that the server's queue is what fills.
	d := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10) })
	}}
	c, err := tls.DialWithDialer(d, "tcp", f.addr(), f.clientConfig("http/1.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const requests = 100 // 25 MiB of responses asked for
	var req strings.Builder
	for range requests {
		req.WriteString("GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n")
	}
	go func() { _, _ = io.WriteString(c, req.String()) }() // blocks once the server stops reading
	time.Sleep(time.Second)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heap := ms.HeapAlloc
	time.Sleep(time.Second)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	// The 25 MiB asked for would show; a budget's worth (plus a response) does not.
	if grew := int64(ms.HeapAlloc) - int64(heap); grew > 8<<20 {
		t.Fatalf("heap grew by %d bytes while the client read nothing", grew)
	}
	if ms.HeapAlloc > 64<<20 {
		t.Fatalf("heap at %d bytes with a non-reading client", ms.HeapAlloc)
	}
	if f.srv.Stats().Paused == 0 {
		t.Fatal("the non-reading connection was never paused")
	}
	other := dialTLS(t, f.addr(), f.clientConfig("http/1.1"))
	if resp, _ := tlsGet(t, other, bufio.NewReader(other), "/"); resp.StatusCode != 200 {
		t.Fatalf("other client: %d", resp.StatusCode)
	}
	// The non-reader gets what it asked for once it reads, whole and in order (the first
	// responses are enough: the rest would only take time).
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	for i := range 8 {
		resp, body := servertest.ReadResponse(t, br, "GET")
		if resp.StatusCode != 200 || len(body) != 256<<10 {
			t.Fatalf("response %d: %d, %d bytes", i, resp.StatusCode, len(body))
		}
	}
}

// byteConn writes one byte per write, so that every record (the ClientHello, the
// request) reaches the server split at every byte.
type byteConn struct{ net.Conn }

func (c byteConn) Write(p []byte) (int, error) {
	for i := range p {
		if _, err := c.Conn.Write(p[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

// Records split at every byte, during the handshake and after it, are put together: the
// handshake completes and the request is served.
func TestTLSRecordsSplitAtEveryByte(t *testing.T) {
	f := startTLS(t, server.Config{}, false)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			raw := servertest.Dial(t, f.srv.Addr())
			cfg := f.clientConfig("http/1.1")
			cfg.MaxVersion = version
			c := tls.Client(byteConn{raw}, cfg)
			if err := c.Handshake(); err != nil {
				t.Fatal(err)
			}
			if resp, body := tlsGet(t, c, bufio.NewReader(c), "/"); resp.StatusCode != 200 || body != "hello over TLS\n" {
				t.Fatalf("got %d %q", resp.StatusCode, body)
			}
		})
	}
}

// Bad records after the handshake close that connection only (RFC 8446 §5.1, §5.2).
func TestTLSBadRecordsCloseTheConnection(t *testing.T) {
	f := startTLS(t, server.Config{}, false)
	for _, tc := range []struct {
		name   string
		record []byte
	}{
		{"record over 16 KiB", append([]byte{23, 3, 3, 0x50, 0x00}, make([]byte, 0x5000)...)},
		{"record that does not decrypt", append([]byte{23, 3, 3, 0, 40}, bytes.Repeat([]byte{7}, 40)...)},
		{"handshake record (renegotiation)", append([]byte{22, 3, 3, 0, 4}, 1, 0, 0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialTLS(t, f.addr(), f.clientConfig("http/1.1"))
			if _, err := c.NetConn().Write(tc.record); err != nil {
				t.Fatal(err)
			}
			_, err := io.Copy(io.Discard, c)
			if err == nil || isTimeout(err) {
				t.Fatalf("the connection did not end in an error: %v", err)
			}
		})
	}
	c := dialTLS(t, f.addr(), f.clientConfig("http/1.1"))
	if resp, _ := tlsGet(t, c, bufio.NewReader(c), "/"); resp.StatusCode != 200 {
		t.Fatalf("others: %d", resp.StatusCode)
	}
}

// Shutdown drains TLS connections as it does cleartext ones: a WebSocket gets close 1001
// through its TLS session, and a connection still in its handshake is closed.
func TestTLSShutdownDrains(t *testing.T) {
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 1, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	installTLSTestRoutes(srv, false)
	cancel, served := servertest.Start(t, srv)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	d := gws.Dialer{TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}}, Timeout: 10 * time.Second}
	conn, br, _, err := d.Dial(context.Background(), "wss://"+srv.Addr().String()+"/echo")
	if err != nil || br != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	silent := servertest.Dial(t, srv.Addr()) // never says hello
	cancel()
	h, err := gws.ReadHeader(conn)
	if err != nil || h.OpCode != gws.OpClose {
		t.Fatalf("got %+v, %v; want a close frame", h, err)
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(conn, payload); err != nil {
		t.Fatal(err)
	}
	if code, _ := gws.ParseCloseFrameData(payload); code != gws.StatusGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	_ = wsutil.WriteClientMessage(conn, gws.OpClose, gws.NewCloseFrameBody(gws.StatusGoingAway, ""))
	if _, err := io.Copy(io.Discard, silent); isTimeout(err) {
		t.Fatal("the connection in its handshake stayed open")
	}
	servertest.Wait(t, served)
}

// TestTLSStreamToALateReader: a streamed response larger than the socket buffers, over
// TLS to a client that reads nothing until the handler has had to wait (Stats.Paused),
// arrives whole, over HTTP/1.1 and HTTP/2: the TLS transport's backlog holds the handler
// back and its writable events let it go on, as the socket's do.
func TestTLSStreamToALateReader(t *testing.T) {
	for _, proto := range []string{"http/1.1", "h2"} {
		t.Run(proto, func(t *testing.T) {
			f := startTLS(t, server.Config{SendBudget: 16 << 10}, false)
			var body io.Reader
			if proto == "h2" {
				tr := &http2.Transport{TLSClientConfig: f.clientConfig("h2")}
				resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Get("https://" + f.srv.Addr().String() + "/stream")
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body = resp.Body
			} else {
				c := dialTLS(t, f.srv.Addr().String(), f.clientConfig("http/1.1"))
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				servertest.Write(t, c, "GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
				defer func() { _ = c.Close() }()
				servertest.Eventually(t, "the handler waits for the client", func() bool { return f.srv.Stats().Paused > 0 })
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatal(err)
				}
				body = resp.Body
			}
			servertest.Eventually(t, "the handler waits for the client", func() bool { return f.srv.Stats().Paused > 0 })
			n, err := io.Copy(io.Discard, body)
			if err != nil || n != 256*64<<10 {
				t.Fatalf("read %d octets (%v), want %d", n, err, 256*64<<10)
			}
		})
	}
}
