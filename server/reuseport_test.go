//go:build linux

package server

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// With ReusePort every loop binds its own listener to the address Listen bound (":0"
// included) and accepts from it: connections must be served whichever socket the kernel
// hands them to, and more than one loop must get some.
func TestReusePortServesFromEveryLoop(t *testing.T) {
	s := startServer(t, Config{Loops: 2, ReusePort: true}, func(s *Server) {
		s.Route("", Route{HTTP: okHandler("x")})
	})
	var conns []net.Conn
	for i := 0; i < 64; i++ {
		c := dial(t, s)
		conns = append(conns, c)
		write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, _ := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 200 {
			t.Fatalf("connection %d: status %d", i, resp.StatusCode)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		busy := 0
		for _, l := range s.loopList() {
			if l.stats.open[kindHTTP1].Load() > 0 {
				busy++
			}
		}
		if busy >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("64 connections all landed on %d loop(s): the other listener accepts nothing", busy)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range conns {
		c.Close()
	}
}
