package server

import (
	"bufio"
	"testing"
)

// Stats.Responses counts each answered request under its status class, its handler on the
// loop or the worker pool, or its upgrade decided on the pool, and Stats.RequestCounts
// times each one from its first bytes.
func TestStatsCountResponsesByClass(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/a", Route{HTTP: okHandler("a")})
		s.Route("/p", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) { w.WriteHeader(201) }})
		s.Route("/later", Route{RequireUpgrade: true, Upgraders: []Upgrader{laterUpgrader{testUpgrader{"later"}}}})
	})
	up := dial(t, s)
	write(t, up, "GET /later HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: later\r\n\r\n")
	if resp, _ := readResponse(t, bufio.NewReader(up), "GET"); resp.StatusCode != 101 {
		t.Fatalf("the upgrade decided on the pool: %d", resp.StatusCode)
	}
	c := dial(t, s)
	defer c.Close()
	br := bufio.NewReader(c)
	for _, path := range []string{"/a", "/p", "/missing"} {
		write(t, c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		readResponse(t, br, "GET")
	}
	write(t, c, "GET /a HTTP/1.1\r\n\r\n") // 400: no Host, and the connection closes
	readResponse(t, br, "GET")

	st := s.Stats()
	if got, want := st.Responses["HTTP/1.1"], [6]uint64{1: 1, 2: 2, 4: 2}; got != want {
		t.Errorf("Responses[HTTP/1.1] = %v, want %v", got, want)
	}
	if got := st.Responses["HTTP/2.0"]; got != [6]uint64{} {
		t.Errorf("Responses[HTTP/2.0] = %v, want none", got)
	}
	var timed uint64
	for _, n := range st.RequestCounts["HTTP/1.1"] {
		timed += n
	}
	if timed != 5 || len(st.RequestCounts["HTTP/1.1"]) != len(st.RequestBuckets)+1 {
		t.Errorf("RequestCounts[HTTP/1.1] = %v (bounds %v), want 5 timed: the 400 and the 101 too, from their first bytes", st.RequestCounts["HTTP/1.1"], st.RequestBuckets)
	}
}
