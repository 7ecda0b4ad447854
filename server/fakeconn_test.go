package server

import (
	"net"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// fakeConn stands in for a gnet connection so that the server's per-request work can be
// measured without sockets: input is served from in, output counted.
type fakeConn struct {
	gnet.Conn // unimplemented methods panic: the path under test must not need them
	in        []byte
	written   int
	ctx       any
}

func (f *fakeConn) Peek(n int) ([]byte, error) { return f.in, nil }
func (f *fakeConn) Discard(n int) (int, error) { f.in = f.in[n:]; return n, nil }
func (f *fakeConn) Write(p []byte) (int, error) {
	f.written += len(p)
	return len(p), nil
}

func (f *fakeConn) Writev(bs [][]byte) (int, error) {
	n := 0
	for _, b := range bs {
		n += len(b)
	}
	f.written += n
	return n, nil
}
func (f *fakeConn) OutboundBuffered() int     { return 0 }
func (f *fakeConn) InboundBuffered() int      { return len(f.in) }
func (f *fakeConn) RemoteAddr() net.Addr      { return &net.TCPAddr{} }
func (f *fakeConn) Context() any              { return f.ctx }
func (f *fakeConn) SetContext(ctx any)        { f.ctx = ctx }
func (f *fakeConn) EventLoop() gnet.EventLoop { return nil }

// fakeServer returns a server with routes and one connection on a loop of its own, driven
// by feeding input and calling the same steps gnet's OnTraffic does.
func fakeServer(setup func(*Server)) (*Server, *Conn, *fakeConn) {
	s := New(Config{Logger: discard})
	setup(s)
	l := newLoop(s, nil)
	fc := &fakeConn{}
	c := &Conn{gc: fc, srv: s, loop: l}
	return s, c, fc
}

// traffic is one OnTraffic: serve, flush, discard.
func (c *Conn) traffic() {
	n := c.serve()
	c.loop.flush(c)
	_, _ = c.gc.Discard(n)
}
