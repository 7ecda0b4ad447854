//go:build linux

package server

import (
	"bufio"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// handedOver is a protocol that hands its connection to the test and ignores its input.
type handedOver struct{ conns chan *Conn }

func (p handedOver) Token() string { return "handover" }
func (p handedOver) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	return p, hdr, nil
}
func (p handedOver) Start(c *Conn, r *Request)             { p.conns <- c }
func (p handedOver) Serve(c *Conn, in []byte) (int, error) { return len(in), nil }
func (p handedOver) Timeout(c *Conn)                       { c.Close() }
func (p handedOver) Closed(c *Conn, err error)             {}

// Conn.WriteAsync calls that wait for a busy loop leave in a few writes, not a system
// call each, and arrive whole and in order; every completion reports success. The
// process's write calls are counted by the kernel (/proc/self/io); nothing else here
// writes meanwhile. The 201 tasks fit one of the loop's batches (256).
func TestConnWriteAsyncBurstLeavesInFewWrites(t *testing.T) {
	p := handedOver{conns: make(chan *Conn, 1)}
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/h", Route{RequireUpgrade: true, Upgraders: []Upgrader{p}})
	})
	cl := dial(t, s)
	write(t, cl, "GET /h HTTP/1.1\r\nHost: x\r\nUpgrade: handover\r\nConnection: upgrade\r\n\r\n")
	br := bufio.NewReader(cl)
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 101 {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	c := <-p.conns
	busy, release := make(chan struct{}), make(chan struct{})
	if err := c.Execute(func(*Conn) { close(busy); <-release }); err != nil {
		t.Fatal(err)
	}
	<-busy
	const n = 200
	done := make(chan error, n)
	for i := range n {
		if err := c.WriteAsync(fmt.Appendf(nil, "line %03d\n", i), func(err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
	}
	_ = cl.SetReadDeadline(time.Now().Add(10 * time.Second))
	before := servertest.WriteCalls(t)
	close(release)
	for i := range n {
		line, err := br.ReadString('\n')
		if want := fmt.Sprintf("line %03d\n", i); err != nil || line != want {
			t.Fatalf("line %d: %q, %v; want %q", i, line, err, want)
		}
	}
	if writes := servertest.WriteCalls(t) - before; writes > 10 {
		t.Fatalf("%d writes took %d write calls, want a few", n, writes)
	}
	for i := range n {
		if err := <-done; err != nil {
			t.Fatalf("completion %d: %v", i, err)
		}
	}
}
