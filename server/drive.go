package server

import (
	"net"

	"github.com/switchyard-dev/switchyard/server/internal/drive"
	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

func init() { drive.New = newDriven }

// memTransport is a transport in memory, for drive.Conn: the part of gnet.Conn the core
// uses; anything else panics on the nil embedded interface.
type memTransport struct {
	gnet.Conn
	in      []byte
	out     []byte
	record  bool
	written int
	backlog int // what the socket has "not taken": drive.Conn.SetBacklog
	ctx     any
}

func (m *memTransport) Peek(int) ([]byte, error) { return m.in, nil }
func (m *memTransport) Discard(n int) (int, error) {
	if n < 0 || n > len(m.in) {
		n = len(m.in)
	}
	m.in = m.in[n:]
	return n, nil
}
func (m *memTransport) Write(p []byte) (int, error) {
	m.written += len(p)
	if m.record {
		m.out = append(m.out, p...)
	}
	return len(p), nil
}
func (m *memTransport) Writev(bs [][]byte) (int, error) {
	n := 0
	for _, b := range bs {
		k, _ := m.Write(b)
		n += k
	}
	return n, nil
}
func (m *memTransport) OutboundBuffered() int { return m.backlog }
func (m *memTransport) InboundBuffered() int  { return len(m.in) }
func (m *memTransport) RemoteAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (m *memTransport) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}
}
func (m *memTransport) PauseRead()        {}
func (m *memTransport) ResumeRead() error { return nil }
func (m *memTransport) Context() any      { return m.ctx }

// Fd says there is no socket: a connection that ends closes at once (Conn.shutWrite).
func (m *memTransport) Fd() int            { return -1 }
func (m *memTransport) SetContext(ctx any) { m.ctx = ctx }

// driven is a drive.Conn.
type driven struct {
	c   *Conn
	t   *memTransport
	buf []byte
}

func newDriven(srv any) drive.Conn {
	s := srv.(*Server)
	t := &memTransport{}
	c := &Conn{tr: t, srv: s, loop: newLoop(s, nil, int(s.loopIDs.Add(1)-1))}
	c.proto = newHTTP1(c)
	t.ctx = c
	return &driven{c: c, t: t}
}

func (d *driven) Feed(in []byte) bool {
	d.buf = append(d.buf[:0], in...)
	d.t.in = d.buf
	if !d.c.closing {
		d.c.process()
	}
	return d.c.closing
}

func (d *driven) Record(on bool) { d.t.record = on }
func (d *driven) Output() []byte { return d.t.out }
func (d *driven) Reset()         { d.t.out = d.t.out[:0] }
func (d *driven) Written() int   { return d.t.written }
func (d *driven) Buffered() int  { return d.c.buffered() }
func (d *driven) Protocol() any  { return d.c.proto }
func (d *driven) SetBacklog(n int) {
	less := n < d.t.backlog
	d.t.backlog = n
	if less {
		d.c.outputTaken() // as the engine's OnWritten does
	}
}
func (d *driven) Close() { d.c.closed = true; d.c.proto.Closed(d.c, nil); d.c.releaseInput() }
