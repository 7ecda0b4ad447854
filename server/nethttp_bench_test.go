package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
)

// netHTTPRoundTripper sends one fixed request per call on a keep-alive connection and
// reads its response, whose length it learns from the first one, into a fixed buffer:
// the client allocates nothing, so the allocations counted are the server's.
type netHTTPRoundTripper struct {
	c   net.Conn
	req []byte
	buf []byte
}

func newRoundTripper(t testing.TB, s *Server, path string) *netHTTPRoundTripper {
	t.Helper()
	c := dial(t, s)
	rt := &netHTTPRoundTripper{c: c, req: []byte("GET " + path + " HTTP/1.1\r\nHost: x\r\nX-Request: 1\r\n\r\n")}
	if _, err := c.Write(rt.req); err != nil {
		t.Fatal(err)
	}
	cr := &countingReader{r: c}
	br := bufio.NewReader(cr)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("first response: %v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	rt.buf = make([]byte, cr.n-br.Buffered())
	return rt
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func (rt *netHTTPRoundTripper) roundTrip(t testing.TB) {
	if _, err := rt.c.Write(rt.req); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rt.c, rt.buf); err != nil {
		t.Fatal(err)
	}
}

// netHTTPHello and nativeHello answer alike: one header, a short body.
var netHTTPHello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "hello\n")
})

func nativeHello(w *ResponseWriter, r *Request) {
	w.Header("Content-Type", "text/plain")
	_, _ = w.WriteString("hello\n")
}

func adapterServer(t testing.TB) *Server {
	return startServer(t, Config{Loops: 1}, func(s *Server) {
		s.Route("/native", Route{HTTP: nativeHello, UseWorkerPool: true})
		s.Route("/nethttp", NetHTTPRoute(netHTTPHello))
	})
}

// BenchmarkNetHTTPAdapter compares a request served by a net/http handler through
// NetHTTP with the same answer from a native handler on the worker pool, over a socket;
// allocs/op are the server's (the client allocates nothing).
func BenchmarkNetHTTPAdapter(b *testing.B) {
	s := adapterServer(b)
	for _, path := range []string{"/native", "/nethttp"} {
		b.Run(path[1:], func(b *testing.B) {
			rt := newRoundTripper(b, s, path)
			b.ReportAllocs()
			for b.Loop() {
				rt.roundTrip(b)
			}
		})
	}
}

// TestNetHTTPAdapterAllocationBudget holds the adapter's documented cost: what a request
// through NetHTTP allocates beyond a native worker-pool handler's.
func TestNetHTTPAdapterAllocationBudget(t *testing.T) {
	s := adapterServer(t)
	native, adapted := newRoundTripper(t, s, "/native"), newRoundTripper(t, s, "/nethttp")
	base := testing.AllocsPerRun(200, func() { native.roundTrip(t) })
	cost := testing.AllocsPerRun(200, func() { adapted.roundTrip(t) })
	const budget = 40 // NetHTTP's doc comment and the README give the figure
	if cost-base > budget {
		t.Fatalf("a request through NetHTTP allocates %.1f more than a native handler's (%.1f): budget %d", cost-base, base, budget)
	}
	t.Logf("native %.1f allocs/request, NetHTTP %.1f", base, cost)
}
