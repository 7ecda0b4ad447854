package server

import (
	"bufio"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// tickingGoroutines counts the goroutines of ants pools' tickers (clock and purge).
func tickingGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "ants/v2.(*poolCommon).ticktock") +
		strings.Count(string(buf), "ants/v2.(*poolCommon).purgeStaleWorkers")
}

// An idle server keeps no goroutine on a fixed tick: ants' default pool is released, and
// the server's pool starts with the first job that needs it, not with Serve.
func TestWorkerPoolStartsWithItsFirstJob(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/loop", Route{HTTP: okHandler("loop")})
		s.Route("/pool", Route{UseWorkerPool: true, HTTP: okHandler("pool")})
	})
	<-s.Ready() // Serve has made s.pool
	c := dial(t, s)
	br := bufio.NewReader(c)
	ask := func(path string) {
		t.Helper()
		write(t, c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v", path, err)
		} else {
			resp.Body.Close()
		}
	}
	ask("/loop")
	if s.pool.started() || tickingGoroutines() != 0 {
		t.Fatalf("before any pool job: pool started %v, %d ticking goroutines; want none", s.pool.started(), tickingGoroutines())
	}
	ask("/pool")
	if !s.pool.started() || tickingGoroutines() == 0 {
		t.Fatalf("after a pool job: pool started %v, %d ticking goroutines", s.pool.started(), tickingGoroutines())
	}
}
