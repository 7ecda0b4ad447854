package server

import (
	"bufio"
	"testing"
	"time"
)

// hoardProtocol never consumes what it is given: a protocol bug, or a user's protocol
// waiting for a unit that never completes.
type hoardProtocol struct{}

func (hoardProtocol) Token() string { return "hoard" }
func (p hoardProtocol) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	return p, hdr, nil
}
func (hoardProtocol) Start(*Conn, *Request)            {}
func (hoardProtocol) Serve(*Conn, []byte) (int, error) { return 0, nil }
func (hoardProtocol) Timeout(*Conn)                    {}
func (hoardProtocol) Closed(*Conn, error)              {}

// The core bounds the input any protocol leaves unconsumed: a peer feeding a protocol
// that keeps everything is cut off at Config.InputBudget, not held in memory without end.
func TestUnconsumedInputIsBoundedByTheCore(t *testing.T) {
	const budget = 64 << 10
	s := startServer(t, Config{InputBudget: budget}, func(s *Server) {
		s.Route("/hoard", Route{Upgraders: []Upgrader{hoardProtocol{}}})
	})
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, "GET /hoard HTTP/1.1\r\nHost: x\r\nUpgrade: hoard\r\nConnection: upgrade\r\n\r\n")
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	chunk := make([]byte, 16<<10)
	sent := 0
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for sent < 64*budget {
		n, err := c.Write(chunk)
		sent += n
		if err != nil {
			break // closed by the server, as it should be
		}
	}
	expectClosed(t, br)
	if sent >= 64*budget {
		// The kernel's buffers can hide a close for a while; what matters is the count.
		t.Logf("all %d bytes were written before the close was seen", sent)
	}
	for deadline := time.Now().Add(5 * time.Second); s.Stats().Errors["input_budget"] == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("errors %v: the connection was not closed for its input budget", s.Stats().Errors)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
