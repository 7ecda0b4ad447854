package server

import (
	"bufio"
	"testing"
)

// Stats.Responses counts each answered request under its status class, its handler on the
// loop or the worker pool, and Stats.RequestCounts times each one whose head was parsed.
func TestStatsCountResponsesByClass(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/a", Route{HTTP: okHandler("a")})
		s.Route("/p", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) { w.WriteHeader(201) }})
	})
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
	if got, want := st.Responses["HTTP/1.1"], [6]uint64{2: 2, 4: 2}; got != want {
		t.Errorf("Responses[HTTP/1.1] = %v, want %v", got, want)
	}
	if got := st.Responses["HTTP/2.0"]; got != [6]uint64{} {
		t.Errorf("Responses[HTTP/2.0] = %v, want none", got)
	}
	var timed uint64
	for _, n := range st.RequestCounts["HTTP/1.1"] {
		timed += n
	}
	if timed != 4 || len(st.RequestCounts["HTTP/1.1"]) != len(st.RequestBuckets)+1 {
		t.Errorf("RequestCounts[HTTP/1.1] = %v (bounds %v), want 4 timed: the 400 too, from its first bytes", st.RequestCounts["HTTP/1.1"], st.RequestBuckets)
	}
}
