package server

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// dyingSocket is gnet's side of a socket whose next write fails: gnet closes such a
// connection inside the write (OnClose marks it closed), and the descriptor number is
// free for the next accept. Fd is a live socket standing for that next connection.
type dyingSocket struct {
	gnet.Conn
	c      *Conn
	fd     int
	toPeer *io.PipeWriter // the handshake's flights, to the test's client
}

func (d *dyingSocket) AsyncWrite(p []byte, _ gnet.AsyncCallback) error {
	_, err := d.toPeer.Write(p)
	return err
}
func (d *dyingSocket) Write([]byte) (int, error) {
	d.c.closed = true
	return 0, errors.New("broken pipe")
}
func (d *dyingSocket) Fd() int                  { return d.fd }
func (d *dyingSocket) OutboundBuffered() int    { return 0 }
func (d *dyingSocket) LocalAddr() net.Addr      { return &net.TCPAddr{} }
func (d *dyingSocket) RemoteAddr() net.Addr     { return &net.TCPAddr{} }
func (d *dyingSocket) Context() any             { return d.c }
func (d *dyingSocket) SetContext(any)           {}
func (d *dyingSocket) InboundBuffered() int     { return 0 }
func (d *dyingSocket) Peek(int) ([]byte, error) { return nil, nil }

// clientSide is the client's net.Conn: what it writes is fed to the server's wire.
type clientSide struct {
	net.Conn
	from *io.PipeReader
	wire *tlsWire
}

func (c *clientSide) Read(p []byte) (int, error)  { return c.from.Read(p) }
func (c *clientSide) Write(p []byte) (int, error) { c.wire.feed(p); return len(p), nil }
func (c *clientSide) Close() error                { return nil }
func (c *clientSide) SetDeadline(time.Time) error { return nil }

// A TLS connection whose close_notify cannot be written is closed by gnet inside that
// write; its lingering close must then leave the descriptor alone, since another loop may
// have accepted a connection on it already. It shut that connection's write side, and its
// client read EOF before the ServerHello.
func TestTLSCloseNotifyFailingDoesNotShutAStrangersSocket(t *testing.T) {
	cert, err := SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	if err := unix.SetNonblock(fds[1], true); err != nil {
		t.Fatal(err)
	}

	c := &Conn{closing: true}
	fromServer, toClient := io.Pipe()
	sock := &dyingSocket{c: c, fd: fds[0], toPeer: toClient}
	tr := &tlsTransport{Conn: sock, c: c, fd: -1, wake: make(chan struct{}, 1)}
	tr.tc = tls.Server(tr.wire(), &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	client := tls.Client(&clientSide{from: fromServer, wire: tr.wire()}, &tls.Config{InsecureSkipVerify: true})
	done := make(chan error, 1)
	go func() { done <- client.Handshake() }()
	if err := tr.tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tr.onLoop, tr.wake = true, nil
	c.tr = tr

	if c.shutWrite() {
		t.Fatal("shutWrite asks to close a connection gnet has closed already")
	}
	// The stranger's socket is untouched: no end of stream, nothing to read.
	if _, err := unix.Read(fds[1], make([]byte, 1)); err != unix.EAGAIN {
		t.Fatalf("the socket now on that descriptor was shut: read gives %v, want EAGAIN", err)
	}
}
