package server

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"
)

// asyncLines is a protocol whose Start hands the connection to a goroutine that writes
// lines with Conn.WriteAsync: the path a custom protocol uses to send from outside the loop.
type asyncLines struct {
	n     int
	done  chan error // one per completed WriteAsync
	after chan error // the first failure once the client has gone
	gone  chan struct{}
}

func (p *asyncLines) Start(c *Conn, r *Request) {
	go func() {
		for i := range p.n {
			line := fmt.Appendf(nil, "line %03d\n", i)
			if err := c.WriteAsync(line, func(err error) { p.done <- err }); err != nil {
				p.done <- err
			}
		}
		<-p.gone
		// The client has closed: a write either fails at once or reports its failure
		// through done, and the loop must not keep accepting writes for a dead connection.
		for {
			var failed error
			cb := make(chan error, 1)
			if err := c.WriteAsync([]byte("late\n"), func(err error) { cb <- err }); err != nil {
				failed = err
			} else if err := <-cb; err != nil {
				failed = err
			}
			if failed != nil {
				p.after <- failed
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
}

func (p *asyncLines) Serve(c *Conn, in []byte) (int, error) { return len(in), nil }
func (p *asyncLines) Timeout(c *Conn)                       { c.Close() }
func (p *asyncLines) Closed(c *Conn, err error)             {}

type asyncLinesUpgrader struct{ p *asyncLines }

func (u asyncLinesUpgrader) Token() string { return "lines" }
func (u asyncLinesUpgrader) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	return u.p, hdr, nil
}

// TestConnWriteAsyncFromAnotherGoroutine: writes queued from another goroutine reach the
// client whole and in order, each completion reports success, and once the client has
// gone a write fails (at once or through its completion) instead of being accepted forever.
func TestConnWriteAsyncFromAnotherGoroutine(t *testing.T) {
	cert, err := SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"plain", false}, {"TLS", true}} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 200
			p := &asyncLines{n: n, done: make(chan error, n), after: make(chan error, 1), gone: make(chan struct{})}
			cfg := Config{}
			if tc.tls {
				cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			}
			s := startServer(t, cfg, func(s *Server) {
				s.Route("/lines", Route{RequireUpgrade: true, Upgraders: []Upgrader{asyncLinesUpgrader{p}}})
			})
			var c net.Conn = dial(t, s)
			if tc.tls {
				c = tls.Client(c, &tls.Config{InsecureSkipVerify: true})
			}
			write(t, c, "GET /lines HTTP/1.1\r\nHost: x\r\nUpgrade: lines\r\nConnection: upgrade\r\n\r\n")
			br := bufio.NewReader(c)
			if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 101 {
				t.Fatalf("status %d, want 101", resp.StatusCode)
			}
			for i := range n {
				line, err := br.ReadString('\n')
				if want := fmt.Sprintf("line %03d\n", i); err != nil || line != want {
					t.Fatalf("line %d: %q, %v; want %q", i, line, err, want)
				}
			}
			for i := range n {
				if err := <-p.done; err != nil {
					t.Fatalf("completion %d: %v", i, err)
				}
			}
			c.Close()
			close(p.gone)
			select {
			case err := <-p.after:
				t.Logf("a write after the close failed with %v", err)
			case <-time.After(30 * time.Second): // a fail-safe, as servertest.Eventually's
				t.Fatal("writes were still accepted 30 s after the client closed")
			}
		})
	}
}
