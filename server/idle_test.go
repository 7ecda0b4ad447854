package server

import (
	"bufio"
	"testing"
	"time"
)

// Nothing wakes a loop on a fixed tick: once its last connection has gone, a loop whose
// wheel holds no deadline is not woken at all (the fixed 250 ms ticker woke every loop
// four times a second, connections or not).
func TestIdleLoopIsNotWoken(t *testing.T) {
	s := startServer(t, Config{Loops: 1}, func(s *Server) { s.Route("", Route{HTTP: okHandler("x")}) })
	c := dial(t, s)
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	readResponse(t, bufio.NewReader(c), "GET")
	_ = c.Close()
	for deadline := time.Now().Add(5 * time.Second); s.Stats().Open["http1"] != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the server did not see the connection close")
		}
		time.Sleep(5 * time.Millisecond)
	}
	loops := s.loopList()
	if len(loops) != 1 {
		t.Fatalf("%d loops", len(loops))
	}
	before := loops[0].ticks.Load()
	time.Sleep(time.Second) // four ticks of the old fixed ticker
	if woke := loops[0].ticks.Load() - before; woke != 0 {
		t.Fatalf("an idle loop with no deadline was woken %d times in a second", woke)
	}
}
