package server

import (
	"strconv"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// engine is the gnet event handler: it routes gnet's callbacks to connections.
type engine struct {
	gnet.BuiltinEventEngine
	srv    *Server
	booted chan struct{} // closed once the event loops run
}

// overloaded is sent to connections past MaxConns before they are closed.
var overloaded = answer503("switchyard: too many connections (MaxConns); try later.\n")

// overloadedIP answers a cleartext connection past MaxConnsPerIP.
var overloadedIP = answer503("switchyard: too many connections from your address (MaxConnsPerIP); try later.\n")

// answer503 is a whole 503 response with body, which closes the connection.
func answer503(body string) []byte {
	return []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// OnRun is called by our gnet fork once the event loops run (OnBoot comes before them).
func (e *engine) OnRun(eng gnet.Engine) {
	e.srv.eng = eng
	close(e.booted)
}

func (e *engine) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	s := e.srv
	if limit := s.cfg.MaxConns; limit > 0 && s.open.Load() >= int64(limit) {
		if s.tls != nil {
			return nil, gnet.Close // a client that starts TLS cannot read a cleartext 503
		}
		return overloaded, gnet.Close
	}
	c := &Conn{tr: gc, srv: s, loop: s.loopFor(gc.EventLoop())}
	if limit := s.cfg.MaxConnsPerIP; limit > 0 && !s.cfg.ProxyProtocol && !s.perIP.admit(c, limit) {
		return s.refusalPerIP(), gnet.Close // before the Conn is registered: nothing to release
	}
	if a, ok := gc.Context().(*adoption); ok {
		a.open(c) // a connection handed over by another server (Adopt): cleartext HTTP/1.1
	} else if s.cfg.ProxyProtocol {
		openProxyHeader(c) // then start(c), once the header is read
	} else {
		s.start(c)
	}
	gc.SetContext(c)
	c.loop.register(c)
	c.loop.stats.open[c.kind].Add(1)
	s.open.Add(1)
	if s.memory != nil {
		s.memory.connOpened()
	}
	return nil, gnet.None
}

// refusalPerIP is what a connection past MaxConnsPerIP gets before it is closed: the 503,
// or nothing over TLS, whose client expects a handshake.
func (s *Server) refusalPerIP() []byte {
	if s.tls != nil {
		return nil
	}
	return overloadedIP
}

// start installs what a fresh connection speaks first: the TLS handshake over TLS,
// HTTP/1.1 otherwise.
func (s *Server) start(c *Conn) {
	if s.tls != nil {
		s.tls.open(c)
	} else {
		c.proto = newHTTP1(c)
	}
}

func (e *engine) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*Conn)
	if !ok || c.closed {
		return gnet.Close
	}
	switch {
	case c.lingering():
		_, _ = gc.Discard(-1) // nothing more is read from a connection that is ending
		c.releaseInput()
		return gnet.None
	case c.paused:
		// The input waits for the peer to read what it was sent; it may not pile up
		// meanwhile.
		if c.buffered() > c.srv.cfg.SendBudget {
			return gnet.Close
		}
		return gnet.None
	}
	if c.process() {
		return gnet.Close
	}
	return gnet.None
}

func (e *engine) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, ok := gc.Context().(*Conn)
	if !ok || c.closed {
		return gnet.None
	}
	c.closed = true
	if s := e.srv; s.cfg.MaxConnsPerIP > 0 {
		if _, waiting := c.proto.(proxyHeader); !waiting { // one still waiting was never counted
			s.perIP.release(c)
		}
	}
	c.loop.unregister(c)
	c.loop.stats.open[c.kind].Add(-1)
	e.srv.open.Add(-1)
	c.loop.wheel.remove(c)
	c.proto.Closed(c, err)
	c.releaseInput()
	c.releaseTLS()
	c.loop.abandonOffLoop(c, 0, true)
	return gnet.None
}

// OnShutdown stops the loops' timers: nothing may queue work on loops that are gone.
func (e *engine) OnShutdown(gnet.Engine) {
	for _, l := range e.srv.loopList() {
		if l.timer != nil {
			l.timer.Stop()
		}
	}
}
