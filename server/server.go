package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// Server is a switchyard server. Create it with New, add routes, then Serve.
type Server struct {
	cfg    Config
	routes router
	global []Upgrader // offered on every route, after the route's own
	prior  PriorKnowledge
	tls    *tlsServer // nil for a cleartext server
	kinds  []string   // protocol names of the connection gauges: "http1", "other", tokens
	// loopIDs numbers the server's loops (and the tests' driven connections), for PerLoop.
	loopIDs atomic.Int64

	clock clock
	open  atomic.Int64
	perIP perIP // with Config.MaxConnsPerIP
	logs  logLimiter

	mu    sync.Mutex
	loops atomic.Pointer[[]*Loop]

	ln      net.Listener // a *net.TCPListener, or a *net.UnixListener (unixsocket.go)
	eng     gnet.Engine
	engErr  chan error // RunListener's result, once the engine has stopped
	pool    *workers
	memory  *memoryReturn // nil unless Config.ReturnMemory
	running chan struct{} // closed once Serve has started everything
	serving bool          // Serve is starting the engine (under mu, with draining)
	started chan struct{} // closed once Serve's start has ended, run or failed
	// beforeRunning, set by tests, runs while the loops serve but running is open.
	beforeRunning func()
	draining      atomic.Bool // Shutdown has begun
	stop          sync.Once
	cutDrain      context.CancelFunc // ends the drain: a Shutdown's deadline, or Close
	done          chan struct{}      // closed when the server has stopped
	stopErr       error

	// extConnect: a route has an Upgrader that extended CONNECT opens (child.go).
	extConnect bool
}

// New returns a server with cfg's settings (zero fields take their defaults).
func New(cfg Config) *Server {
	s := &Server{cfg: cfg.withDefaults(),
		running: make(chan struct{}), started: make(chan struct{}), done: make(chan struct{}), kinds: []string{"http1", "other"}}
	if cfg.TLS != nil {
		s.addKind("tls") // connections whose handshake is not done
		s.tls = newTLSServer(s)
	}
	return s
}

// Config returns the server's settings with defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Upgrade offers u on every route, after the route's own upgraders, and on paths no
// route serves. When u implements PriorKnowledge (HTTP/2 does), connections that open
// with its preface switch to it too. This is how HTTP/2 is enabled:
//
//	srv.Upgrade(http2.New(http2.Config{}))
//
// Call before Serve.
func (s *Server) Upgrade(u Upgrader) {
	s.global = append(s.global, u)
	s.addKind(u.Token())
	if p, ok := u.(PriorKnowledge); ok {
		s.prior = p
		if s.tls != nil {
			s.addKind(alpnH2)
		}
	}
}

// addKind gives a protocol name a connection gauge.
func (s *Server) addKind(name string) {
	if s.kindIndex(name) == 1 && name != "other" && len(s.kinds) < 255 {
		s.kinds = append(s.kinds, name)
	}
}

// kindIndex finds a protocol's gauge; names never registered count as "other".
func (s *Server) kindIndex(name string) uint8 {
	for i, k := range s.kinds {
		if k == name {
			return uint8(i)
		}
	}
	return 1
}

// TCP keep-alive for every connection, as Go's net package sets it: probe after 15 s
// of silence, every 15 s, 9 times.
const (
	tcpKeepAlive       = 15 * time.Second
	tcpKeepAliveProbes = 9
)

// etChunk bounds the bytes one connection reads or writes in a turn of its loop.
const etChunk = 256 << 10

// Listen binds the server's address; Addr is valid afterwards. Serve calls it if needed.
// The event loops accept on a duplicate of this socket.
func (s *Server) Listen() error {
	if s.ln != nil {
		return nil
	}
	var ln net.Listener
	var err error
	if path, ok := unixSocketPath(s.cfg.Addr); ok {
		ln, err = s.listenUnix(path)
	} else {
		var lc net.ListenConfig
		if s.cfg.ReusePort {
			lc.Control = setReusePort
		}
		ln, err = lc.Listen(context.Background(), "tcp", s.cfg.Addr)
	}
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
}

// Addr is the address the server listens on, once Listen or Serve has bound it.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Open returns the number of open connections.
func (s *Server) Open() int { return int(s.open.Load()) }

// ErrServerClosed is Serve's answer after Shutdown or Close, or to a second call.
var ErrServerClosed = errors.New("switchyard: server closed")

// Serve runs the server until ctx is done, then shuts it down gracefully within
// Config.ShutdownTimeout (see Shutdown). It returns when the server has stopped. A
// server serves once: after Shutdown or Close, or when called again, Serve returns
// ErrServerClosed.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	// Shutdown decides under mu whether an engine may be running; from here on it
	// waits for this start to end, so it never returns while loops it missed serve.
	s.mu.Lock()
	if s.draining.Load() || s.serving {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.serving = true
	s.mu.Unlock()
	s.pool = &workers{size: s.cfg.WorkerPoolSize}
	if s.cfg.ReturnMemory && s.memory == nil {
		s.memory = newMemoryReturn(s.cfg.Logger)
	}
	if s.tls != nil {
		s.tls.configure(s) // now that Upgrade has said whether HTTP/2 is spoken
	}
	e := &engine{srv: s, booted: make(chan struct{})}
	s.engErr = make(chan error, 1)
	go func() {
		s.engErr <- gnet.RunListener(e, s.ln,
			gnet.WithMulticore(true),
			gnet.WithNumEventLoop(s.cfg.Loops),
			gnet.WithReusePort(s.cfg.ReusePort),
			// As net.Listen does: the per-loop sockets of ReusePort, and the connections
			// they accept, would otherwise leave TIME_WAIT entries that keep a restart
			// without ReusePort from binding the port for a minute.
			gnet.WithReuseAddr(true),
			// Every loop accepts from the one listener (server/internal/gnet/README.md).
			gnet.WithSharedListener(true),
			gnet.WithIdleSpins(s.cfg.IdleSpins),
			// With HoldP, loops under paced load sleep keeping their P, idle ones park
			// in Go's netpoller (docs/architecture.md §2).
			gnet.WithHoldP(s.cfg.HoldP),
			// Edge-triggered, without the extra read to EAGAIN (docs/architecture.md §2).
			gnet.WithEdgeTriggeredIO(true),
			// A connection reads or writes at most this much per turn before the loop
			// serves the others (upstream's ET default is 1 MiB), so one bulk upload
			// cannot hold up the echoes of everyone else on its loop for long.
			gnet.WithEdgeTriggeredIOChunk(etChunk),
			// Set once on the listener, inherited by every accepted socket (TCP only).
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithTCPKeepAlive(tcpKeepAlive),
			gnet.WithTCPKeepInterval(tcpKeepAlive),
			gnet.WithTCPKeepCount(tcpKeepAliveProbes),
			gnet.WithLogger(gnetLogger{s.cfg.Logger}),
		)
	}()
	select {
	case <-e.booted:
	case err := <-s.engErr:
		s.pool.Release()
		close(s.started) // a Shutdown waiting for this start finds nothing running
		return fmt.Errorf("switchyard: event loops: %w", err)
	}
	if s.beforeRunning != nil {
		s.beforeRunning()
	}
	close(s.running)
	close(s.started)
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		_ = s.Shutdown(sctx)
	case <-s.done:
	case err := <-s.engErr: // the engine stopped on its own: only a broken listener does that
		s.engErr <- err
		_ = s.Close()
	}
	<-s.done
	return s.stopErr
}

// Close stops the server at once: it stops accepting and closes every connection, also
// while a Shutdown drains.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return s.Shutdown(ctx)
}

// loopFor returns the loop state of el, creating it on first sight. Loops are few and
// seen once each, so a copied slice behind an atomic pointer serves the ticker lock-free.
func (s *Server) loopFor(el gnet.EventLoop) *Loop {
	for _, l := range s.loopList() {
		if l.el == el {
			return l
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.loopList() {
		if l.el == el {
			return l
		}
	}
	l := newLoop(s, el, int(s.loopIDs.Add(1)-1))
	next := append(append([]*Loop(nil), s.loopList()...), l)
	s.loops.Store(&next)
	return l
}

func (s *Server) loopList() []*Loop {
	if p := s.loops.Load(); p != nil {
		return *p
	}
	return nil
}

// Draining reports whether Shutdown has begun.
func (s *Server) Draining() bool { return s.draining.Load() }
