//go:build linux

package server

import (
	"bufio"
	"context"
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

// A ReusePort server that closed its connections itself (the TIME_WAIT entries are on its
// side) does not keep a restart without ReusePort from binding the address, as a server
// on net.Listen's socket does not: its per-loop sockets set SO_REUSEADDR too.
func TestReusePortLeavesTheAddressForARestart(t *testing.T) {
	s := New(Config{Addr: "127.0.0.1:0", Loops: 3, ReusePort: true})
	s.Route("/", Route{HTTP: okHandler("hi")})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(context.Background()) }()
	<-s.Ready()
	addr := s.Addr().String()
	var conns []net.Conn
	for range 12 {
		c := dial(t, s)
		write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		readResponse(t, bufio.NewReader(c), "GET") // served: accepted by some loop
		conns = append(conns, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = s.Shutdown(ctx) // the server closes the idle connections first
	for _, c := range conns {
		c.Close()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("restart on %s without ReusePort: %v", addr, err)
	}
	ln.Close()
}
