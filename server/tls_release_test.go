package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// quitProtocol answers its first input and closes the connection without consuming it,
// as the WebSocket protocol does on a close frame.
type quitProtocol struct{}

func (quitProtocol) Token() string { return "quit" }
func (p quitProtocol) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	return p, hdr, nil
}
func (quitProtocol) Start(*Conn, *Request) {}
func (quitProtocol) Serve(c *Conn, _ []byte) (int, error) {
	c.WriteString("bye")
	return 0, ErrClose
}
func (quitProtocol) Timeout(c *Conn)     { c.Close() }
func (quitProtocol) Closed(*Conn, error) {}

// A TLS connection that closes with plaintext it never consumed gives its decryption
// buffer back to its loop: the loops make a few buffers in all, not 32 KiB per
// connection (the handshake bench closed every connection so, and the buffers made its
// server collect garbage twice as often).
func TestTLSClosedConnectionsGiveBackTheirBuffers(t *testing.T) {
	cert, err := SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, func(s *Server) {
		s.Route("/quit", Route{Upgraders: []Upgrader{quitProtocol{}}})
	})
	const conns = 24
	for range conns {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.Addr().String(),
			&tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		write(t, c, "GET /quit HTTP/1.1\r\nHost: x\r\nUpgrade: quit\r\nConnection: upgrade\r\n\r\n")
		if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 101 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		// The client resets at once, as the bench's does: the server's answer then fails
		// to be written, and gnet closes the connection before its input is discarded.
		write(t, c, "bye")
		_ = c.NetConn().(*net.TCPConn).SetLinger(0)
		_ = c.NetConn().Close()
	}
	// The loops' state is read on the loops.
	made := 0
	for _, l := range s.loopList() {
		done := make(chan int)
		if err := l.Run(gnet.RunnableFunc(func(context.Context) error { done <- l.tlsScratch.plainMade; return nil })); err != nil {
			t.Fatal(err)
		}
		made += <-done
	}
	if limit := 2 * len(s.loopList()); made == 0 || made > limit {
		t.Fatalf("%d connections made %d decryption buffers, want 1 to %d", conns, made, limit)
	}
}
