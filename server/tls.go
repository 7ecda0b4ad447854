package server

import (
	"crypto/tls"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// TLS is a transport under the protocols, not a protocol (docs/architecture.md §4).
// crypto/tls is used as it is, not forked: each handshake runs on a short-lived goroutine
// over a tlsWire the loop feeds (the goroutine ends with the handshake), then the
// connection moves onto a tlsTransport and its records are decrypted and encrypted on the
// loop. ALPN then installs HTTP/2 ("h2") or HTTP/1.1 ("http/1.1" or none).

// tlsServer is a server's TLS state: the configuration every connection uses (cloned
// once, so session ticket keys are shared and resumption works) and the handshakes in
// flight.
type tlsServer struct {
	cfg      *tls.Config
	timeout  time.Duration
	max      int64
	kind     uint8
	inFlight atomic.Int64
	// Outcomes, versions, ALPN results and latency, for Server.TLSStats.
	ok, failed, timedOut, refused atomic.Int64
	tls12, tls13                  atomic.Int64
	alpnH2, alpnHTTP11, alpnNone  atomic.Int64
	latency                       histogram
	workers                       *handshakers
}

// DefaultMaxTLSHandshakes is Config.MaxTLSHandshakes's floor: handshakes in flight wait
// mostly on the network, so the cap is well above the cores' count, and a flood of
// ClientHellos costs at most this many goroutines.
const DefaultMaxTLSHandshakes = 1024

// alpnH2 is HTTP/2's ALPN id (RFC 9113 §3.2), and the name its TLS connections count
// under in Stats.Open.
const alpnH2 = "h2"

func newTLSServer(s *Server) *tlsServer {
	return &tlsServer{timeout: s.cfg.TLSHandshakeTimeout, max: int64(s.cfg.MaxTLSHandshakes), kind: s.kindIndex("tls"),
		workers: newHandshakers(4*runtime.GOMAXPROCS(0), workerExpiry)}
}

// configure prepares the server's tls.Config before the loops start: TLS 1.2 at least,
// and ALPN offering what the server speaks (h2 only when HTTP/2 is enabled).
func (ts *tlsServer) configure(s *Server) {
	cfg := s.cfg.TLS.Clone()
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{alpnH2, "http/1.1"}
	}
	if s.prior == nil {
		cfg.NextProtos = slices.DeleteFunc(slices.Clone(cfg.NextProtos), func(p string) bool { return p == alpnH2 })
	}
	ts.cfg = cfg
}

func defaultMaxTLSHandshakes() int { return max(DefaultMaxTLSHandshakes, 256*runtime.GOMAXPROCS(0)) }

// open starts a new connection in its handshake. It costs no goroutine until the client's
// first bytes arrive.
func (ts *tlsServer) open(c *Conn) {
	c.kind = ts.kind
	c.proto = &tlsHandshake{}
	c.SetDeadline(ts.timeout)
}

// TLSStats counts TLS handshakes by outcome since the server started.
type TLSStats struct {
	InFlight  int64 // handshakes running now
	Completed int64
	// Failed: refused by crypto/tls (bad input, no shared version or cipher) or cut off
	// (the client left, or the timeout closed it: those count under TimedOut too).
	Failed   int64
	TimedOut int64 // not done within Config.TLSHandshakeTimeout
	Refused  int64 // over Config.MaxTLSHandshakes: closed without a handshake
	// Completed handshakes by version and by ALPN outcome ("h2", "http/1.1", none).
	TLS12, TLS13                 int64
	ALPNH2, ALPNHTTP11, ALPNNone int64
	// Latency of completed handshakes, from the client's first bytes to the handshake's
	// end: counts per bucket (upper bounds in Buckets; the last count is for larger ones).
	Buckets []time.Duration
	Counts  []uint64
	Sum     time.Duration
}

// TLSStats reports the server's TLS handshakes; zero without Config.TLS.
func (s *Server) TLSStats() TLSStats {
	ts := s.tls
	if ts == nil {
		return TLSStats{}
	}
	st := TLSStats{InFlight: ts.inFlight.Load(), Completed: ts.ok.Load(), Failed: ts.failed.Load(),
		TimedOut: ts.timedOut.Load(), Refused: ts.refused.Load(), TLS12: ts.tls12.Load(), TLS13: ts.tls13.Load(),
		ALPNH2: ts.alpnH2.Load(), ALPNHTTP11: ts.alpnHTTP11.Load(), ALPNNone: ts.alpnNone.Load(),
		Buckets: handshakeBuckets[:], Counts: make([]uint64, len(handshakeBuckets)+1),
		Sum: time.Duration(ts.latency.sumNs.Load())}
	for i := range ts.latency.buckets {
		st.Counts[i] = ts.latency.buckets[i].Load()
	}
	return st
}

// tlsHandshake is the protocol of a connection whose TLS handshake is not done: its input
// goes to the handshake goroutine. It is a Protocol so that the core's timers, input and
// close paths serve it like any other, with no TLS branch of their own.
type tlsHandshake struct {
	t *tlsTransport // the connection's transport-to-be, crypto/tls's wire meanwhile
}

func (h *tlsHandshake) Start(*Conn, *Request) {}

func (h *tlsHandshake) Serve(c *Conn, in []byte) (int, error) {
	ts := c.srv.tls
	if h.t == nil {
		if ts.inFlight.Add(1) > ts.max {
			ts.inFlight.Add(-1)
			ts.refused.Add(1)
			return len(in), ErrClose
		}
		t := &tlsTransport{Conn: c.tr, c: c, fd: int32(c.tr.Fd()), wake: make(chan struct{}, 1)}
		t.tc = tls.Server(t.wire(), ts.cfg)
		h.t = t
		ts.workers.run(func() { h.run(c, ts, t.tc) })
	}
	if h.t.wire().feed(in) >= tlsMaxHandshakeInput {
		// More than any handshake needs: what follows may be application data a TLS 1.3
		// client sent right behind its Finished (RFC 8446 §2), which waits in the kernel
		// until the handshake is done, and a client that only floods meets the handshake
		// timeout.
		c.Hold()
	}
	return len(in), nil
}

// run is the handshake, on a goroutine of ts.workers: it hands the outcome to the loop.
func (h *tlsHandshake) run(c *Conn, ts *tlsServer, tc *tls.Conn) {
	start := time.Now()
	err := tc.Handshake()
	ts.inFlight.Add(-1)
	if err != nil {
		ts.failed.Add(1)
	} else {
		ts.latency.observe(time.Since(start))
	}
	// Queued behind the handshake's last AsyncWrite, so its output leaves first.
	_ = c.Execute(func(c *Conn) { h.done(c, err) })
}

// done moves a connection whose handshake ended onto its TLS transport and the protocol
// ALPN chose, and serves what the client sent behind its last handshake message.
func (h *tlsHandshake) done(c *Conn, err error) {
	if c.proto != h {
		return
	}
	if err != nil {
		c.LogRefusal(0, "TLS handshake: "+err.Error())
		c.closing = true // crypto/tls has sent its alert already
		return
	}
	ts := c.srv.tls
	ts.ok.Add(1)
	t := h.t
	t.onLoop, t.wake = true, nil // the handshake goroutine has ended
	c.tr = t
	st := t.tc.ConnectionState()
	if st.Version == tls.VersionTLS13 {
		ts.tls13.Add(1)
	} else {
		ts.tls12.Add(1)
	}
	switch st.NegotiatedProtocol {
	case alpnH2:
		ts.alpnH2.Add(1)
	case "http/1.1":
		ts.alpnHTTP11.Add(1)
	default:
		ts.alpnNone.Add(1)
	}
	if st.NegotiatedProtocol == alpnH2 && c.srv.prior != nil {
		c.Switch(alpnH2, c.srv.prior.StartWithPreface(c), nil) // "h2c" would say cleartext
	} else {
		c.setKind("http1")
		c.proto = newHTTP1(c)
	}
	if c.holding { // the input stopped at the handshake's bound: read on
		c.Resume()
	} else if c.process() {
		c.closeNow()
	}
}

func (h *tlsHandshake) Timeout(c *Conn) {
	c.srv.tls.timedOut.Add(1)
	if h.t != nil {
		h.t.wire().close()
	}
	c.Close()
}

func (h *tlsHandshake) Closed(c *Conn, err error) {
	if h.t != nil {
		h.t.wire().close()
	}
}

// TLSConnectionState reports the connection's TLS session (version, ALPN, SNI, peer
// certificates) once its handshake is done; ok is false on a cleartext connection. A
// child connection (a WebSocket over an HTTP/2 stream) reports its parent's session,
// which carries it. Loop only.
func (c *Conn) TLSConnectionState() (st tls.ConnectionState, ok bool) {
	if t, isTLS := c.carrier().tr.(*tlsTransport); isTLS {
		return t.tc.ConnectionState(), true
	}
	return st, false
}

// IsTLS reports whether the connection (or, for a child, its parent) is a TLS one whose
// handshake is done. Loop only.
func (c *Conn) IsTLS() bool {
	_, ok := c.carrier().tr.(*tlsTransport)
	return ok
}

// carrier is the connection whose socket carries c: its parent for a child, else c.
func (c *Conn) carrier() *Conn {
	if t, ok := c.tr.(*childTransport); ok {
		return t.parent
	}
	return c
}

// socket is the connection's socket under its transport, for gnet calls that need it.
func (c *Conn) socket() gnet.Conn {
	if t, ok := c.tr.(*tlsTransport); ok {
		return t.Conn
	}
	return c.tr
}

// releaseTLS gives a closed TLS connection's decryption buffer back to its loop: a
// connection that closes within a turn (a close frame, a reset) never discards its input.
func (c *Conn) releaseTLS() {
	if t, ok := c.tr.(*tlsTransport); ok {
		t.releasePlain()
	}
}

// endTLS sends close_notify on a TLS connection about to close.
func (c *Conn) endTLS() {
	if t, ok := c.tr.(*tlsTransport); ok {
		t.closeNotify()
	}
}
