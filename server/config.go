package server

import (
	"crypto/tls"
	"io/fs"
	"log/slog"
	"runtime"
	"time"

	"github.com/switchyard-dev/switchyard/parser"
)

// Config holds the server's settings. The zero value of every field means its default.
type Config struct {
	// Addr is the TCP address to listen on, e.g. ":8080" (default ":8080"), or a
	// Unix-domain socket's path after "unix:", e.g. "unix:/run/switchyard.sock", as
	// nginx spells it: for a server only a proxy on the same host reaches. A socket file
	// left there by a server that is gone is replaced; one that a server answers on makes
	// Listen fail. Shutdown and Close remove the file. Server.Addr, Conn.LocalAddr and
	// Conn.RemoteAddr are then *net.UnixAddr values (a peer's is usually unnamed, "@"),
	// unless a PROXY header names the client (ProxyProtocol).
	Addr string
	// UnixSocketMode, when set, is the permission bits of a Unix-domain socket's file
	// (Addr "unix:..."), e.g. 0o660 for a proxy in the server's group: connecting takes
	// write permission, and the default comes from the process's umask.
	UnixSocketMode fs.FileMode
	// Loops is the number of event loops (default: one per CPU).
	Loops int
	// HoldP has a loop that gets events every few milliseconds sleep between them keeping
	// its Go P (Linux), so that the runtime's sysmon leaves it alone: a third fewer
	// context switches per message at low paced rates (1,000-2,000 messages or requests
	// per second), none gained from about 5,000 up and CPU lost under saturation. The P
	// goes to worker-pool jobs and TLS handshakes the loop hands off, and for good once
	// the loop has had nothing for 20 ms (it parks in Go's netpoller); never with
	// GOMAXPROCS 1. But while every P is held, the program's other goroutines run only
	// when sysmon preempts a loop, every 10 ms or so: one that a callback readies (a send
	// on a channel it reads) and one waiting for network I/O in Go's netpoller (a NATS or
	// database client, an HTTP call from a worker-pool handler). BenchmarkHandedOffReply
	// (server/websocket: two loops at 5,000 messages/s, a goroutine answering what
	// OnMessage hands it): p99 41 ms holding, 0.5 ms not. So it is off by default, for a
	// server that is the whole program (`switchyard serve` sets it unless clustered over
	// NATS). See the gnet fork's netpoll/hold_linux.go.
	HoldP bool
	// ReturnMemory hands the heap the garbage collector keeps spare back to the operating
	// system once a burst of connections (1,000 or more new ones) has had none follow for
	// a second, if 16 MiB or more would come back (debug.FreeOSMemory: one forced
	// collection). After a reconnection storm, and TLS handshakes make plenty of garbage,
	// the process otherwise keeps about twice its live heap resident while the
	// connections idle: 10,000 idle wss connections held 8.5 KiB of RSS each, 6.2 KiB
	// after the return. Process-wide, so off by default in an embedding program;
	// `switchyard serve` sets it. See memory.go.
	ReturnMemory bool
	// ReusePort gives every loop a listening socket of its own on Addr (SO_REUSEPORT,
	// Linux and FreeBSD): the kernel spreads new connections over them by a hash of the
	// addresses. Another process of the same user could then bind the same port too, as
	// with nginx's `reuseport`. By default every loop polls the one listening socket
	// instead (EPOLLEXCLUSIVE wakes one sleeping loop per connection) and keeps what it
	// accepts unless it holds clearly more connections than another loop. Listen refuses
	// it with a Unix-domain socket, which one process binds.
	ReusePort bool
	// IdleSpins is how many times at most a loop that runs out of events yields the CPU
	// (sched_yield) and polls again before it sleeps in epoll_wait (default 50; -1: sleep at
	// once). Under saturation the next event comes within microseconds, and a loop still
	// awake takes it without the context switch, the wakeup the sender pays (an
	// inter-processor interrupt, a hypervisor exit on a VM) and the Go runtime's hand-off
	// of the loop's P. Under paced load the spin would find nothing and only burn CPU, so a
	// loop spins only while its recent idle gaps average under 20 µs (the gnet fork's spin
	// pacer); an idle or paced loop sleeps at once. A spinning loop keeps its Go P, so
	// loops spin only when there are no more of them than GOMAXPROCS. Linux only.
	IdleSpins int
	// Limits bounds HTTP/1.1 request heads and bodies (defaults: parser.DefaultLimits()).
	Limits parser.Limits
	// HeaderTimeout bounds the time from a request's first byte to the end of its head,
	// against slowloris clients (default 10s).
	HeaderTimeout time.Duration
	// BodyTimeout and MinBodyRate bound the time a request body may take: BodyTimeout from
	// its start, extended by what arrives at MinBodyRate bytes per second or faster
	// (defaults 30s and 16 KiB/s). A client slower than that on average gets 408.
	BodyTimeout time.Duration
	MinBodyRate int
	// IdleTimeout closes a keep-alive HTTP/1.1 connection that sends no request (default 60s).
	IdleTimeout time.Duration
	// HandlerTimeout bounds the wait for work handed to the worker pool: a UseWorkerPool
	// handler's response and an upgrade decided off the loop
	// (websocket.Handler.AuthorizeOffLoop, over RFC 8441 too). Past it the client gets
	// 503 and, over HTTP/1.1, the connection closes; over HTTP/2 the stream gets the 503
	// and the connection serves on (a stream that waits for the server does not count
	// against BodyTimeout). The late answer is dropped and a NetHTTP handler's context
	// cancelled (default 60s). The goroutine is not stopped: Go cannot, so a handler that
	// may hang should bound its own waits.
	HandlerTimeout time.Duration
	// MaxConns caps open connections; past it new ones are answered 503 and closed (over
	// TLS closed at once: the client expects a handshake), counted per Server (default 0:
	// no cap other than the process's file descriptor limit, which never
	// stops the server: see server/internal/gnet/accept_errors.go).
	MaxConns int
	// MaxConnsPerIP caps the open connections of one client address (IPv4, or IPv6 as
	// sent), so that one client cannot take MaxConns or the descriptors for itself; past
	// it, a new connection is answered as past MaxConns. With ProxyProtocol the address is
	// the one the header names, checked once it has arrived. A peer on a Unix-domain
	// socket has no IP: without ProxyProtocol the cap does not apply to it. Default 0: no
	// cap.
	MaxConnsPerIP int
	// WorkerPoolSize bounds the jobs that run at once on the worker pool: handlers of
	// routes with UseWorkerPool, and protocols' Conn.Submit and Conn.Queue (default
	// 4096). The pool starts with the first job that needs it: it keeps tickers
	// (ants' clock and purge) that an idle server without such routes should not pay.
	WorkerPoolSize int
	// Logger receives the reasons for rejected requests and failed upgrades at Debug level
	// and server events at Info (default: slog.Default()).
	Logger *slog.Logger
	// AccessLog, when set, receives one Info record ("access") per answered request, over
	// HTTP/1.x and HTTP/2 alike, once its response is queued (after a worker-pool handler
	// too): proto, method, target (as sent), status, bytes (of body sent), duration_us
	// (from the request's head being complete to its response queued), remote
	// (Conn.RemoteAddr), and upgrade on a 101 (or an HTTP/2 extended CONNECT's 200): the
	// protocol switched to. Refused upgrades (426, an Upgrader's 4xx) and 404s are lines
	// too. Over HTTP/1.1 a request the parser refused (400, 413, 414, 431, 505) or that
	// timed out (408, 503) has only status, bytes, remote and, once its head was
	// complete, duration_us. Nil (the default) keeps none, at the cost of a nil check
	// per request. The handler runs on the loop: give it one that never waits on its
	// output (serve's hands the lines to a goroutine of its own).
	AccessLog *slog.Logger
	// ShutdownTimeout bounds the graceful shutdown Serve performs when its context ends
	// (default 10s); what is still open then is closed.
	ShutdownTimeout time.Duration
	// SendBudget bounds the output queued for a peer that does not read it, whatever the
	// protocol queued (responses, pongs, RST_STREAM, broadcasts) (default 1 MiB): past it
	// the server reads nothing more from that connection until the peer has taken half of
	// it, and closes it if it stays stuck for IdleTimeout or sends more than this much
	// meanwhile. Protocols may drop or refuse data earlier (websocket.Handler.SendBudget).
	SendBudget int
	// InputBudget bounds the input a connection's protocol has received and left
	// unconsumed (default 32 MiB). A protocol waits for whole units (a WebSocket frame, an
	// HTTP/1.1 body with Content-Length, an HTTP/2 frame), each under its own limit; this
	// is the core's backstop for every protocol, a user's included: past it the
	// connection is closed (error "input_budget"). Keep it above the largest unit a
	// protocol may wait for (websocket.Handler.MaxMessageSize, Limits.MaxBodyBytes).
	InputBudget int
	// LingerTimeout bounds how long a connection that is done waits for its queued output
	// to reach the client before it is closed anyway (default 5s).
	LingerTimeout time.Duration
	// LogRate bounds the per-connection log lines (why a request was refused) per second
	// (default 20); the rest are counted and reported as suppressed.
	LogRate int
	// ServerName is sent in the Server field of HTTP/1.1 and HTTP/2 responses (default
	// "switchyard"; "-" sends none).
	ServerName string
	// TLS, when set, makes every connection a TLS one (TLS 1.2 at least, whatever its
	// MinVersion says). Its NextProtos defaults to "h2" (when HTTP/2 is enabled) and
	// "http/1.1": ALPN "h2" goes straight to HTTP/2, anything else to HTTP/1.1, whose
	// upgrades work as in cleartext. Certificates, SNI (Certificates or GetCertificate),
	// session tickets and client authentication are crypto/tls's own; see
	// CertificateFile for a certificate reloaded without a restart. One server is either
	// cleartext or TLS: serve both with two servers sharing the routes.
	TLS *tls.Config
	// TLSHandshakeTimeout bounds a TLS handshake from the connection's accept (default 10s).
	TLSHandshakeTimeout time.Duration
	// MaxTLSHandshakes caps the TLS handshakes in flight, each one a goroutine until it
	// ends; a connection that would exceed it is closed before its handshake (default
	// DefaultMaxTLSHandshakes, or 256 per GOMAXPROCS if more).
	MaxTLSHandshakes int
	// ProxyProtocol has every connection begin with a PROXY protocol header (HAProxy's
	// proxy-protocol.txt, version 1 or 2), as an L4 load balancer sends it (AWS NLB,
	// HAProxy's send-proxy, nginx stream's proxy_protocol): RemoteAddr then reports the
	// client's address the header names instead of the balancer's, and LocalAddr (a
	// NetHTTP handler's http.LocalAddrContextKey too) the address the client connected to
	// at the balancer, if the header names TCP over IPv4 or IPv6 (the socket's own
	// otherwise: a header naming Unix sockets). A LOCAL header (the balancer's own health
	// check) or a version 1 UNKNOWN one keeps both of the socket's addresses. Only enable
	// it behind a proxy that always sends the header, and only reachable through it: a
	// connection without a valid header is closed unanswered, and one that reached the
	// server directly could claim any address. The header counts against the timeout of
	// a fresh connection (TLSHandshakeTimeout over TLS, HeaderTimeout otherwise).
	// Connections handed over with Adopt or Handoff are past any header and keep their
	// socket's addresses.
	ProxyProtocol bool
}

// DefaultIdleSpins is Config.IdleSpins's default (the measurement behind it is in
// server/internal/gnet/README.md).
const DefaultIdleSpins = 50

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.Loops <= 0 {
		c.Loops = runtime.NumCPU()
	}
	switch {
	case c.IdleSpins < 0, c.Loops > runtime.GOMAXPROCS(0):
		// A spinning loop keeps its P, so with more loops than Ps another loop coming back
		// from a system call would wait for sysmon to preempt someone.
		c.IdleSpins = 0
	case c.IdleSpins == 0:
		c.IdleSpins = DefaultIdleSpins
	}
	c.Limits = c.Limits.WithDefaults()
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = 10 * time.Second
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = 30 * time.Second
	}
	if c.MinBodyRate <= 0 {
		c.MinBodyRate = 16 << 10
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = 60 * time.Second
	}
	if c.SendBudget <= 0 {
		c.SendBudget = 1 << 20
	}
	if c.InputBudget <= 0 {
		c.InputBudget = 32 << 20
	}
	if c.LingerTimeout <= 0 {
		c.LingerTimeout = 5 * time.Second
	}
	if c.LogRate <= 0 {
		c.LogRate = 20
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.WorkerPoolSize <= 0 {
		c.WorkerPoolSize = 4096
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.TLSHandshakeTimeout <= 0 {
		c.TLSHandshakeTimeout = 10 * time.Second
	}
	if c.MaxTLSHandshakes <= 0 {
		c.MaxTLSHandshakes = defaultMaxTLSHandshakes()
	}
	switch c.ServerName {
	case "":
		c.ServerName = "switchyard"
	case "-":
		c.ServerName = ""
	}
	return c
}
