package server

import (
	"io"
	"log/slog"
	"testing"

	"github.com/switchyard-dev/switchyard/parser/parsertest"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

var benchRequests = []struct {
	name string
	req  []byte
}{
	{"pico703", parsertest.Pico703},
	{"chromeWebSocket", parsertest.ChromeWebSocket},
	{"curlH2Upgrade", parsertest.CurlH2Upgrade},
}

func helloRoutes(s *Server) {
	body := []byte("hello")
	s.Route("", Route{HTTP: func(w *ResponseWriter, r *Request) {
		w.Header("Content-Type", "text/plain")
		_, _ = w.Write(body)
	}})
}

// The whole HTTP/1.1 request path on the loop — parse, route, handler, response, write —
// allocates nothing per request once warm.
func TestServingARequestAllocatesNothing(t *testing.T) {
	for _, br := range benchRequests {
		t.Run(br.name, func(t *testing.T) {
			_, c, fc := fakeServer(helloRoutes)
			allocs := testing.AllocsPerRun(200, func() {
				fc.in = br.req
				c.traffic()
				if c.closing {
					t.Fatal("request was refused")
				}
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per request, want 0", allocs)
			}
			if fc.written == 0 {
				t.Fatal("no response written")
			}
		})
	}
}

func BenchmarkServeHTTP1(b *testing.B) {
	for _, br := range benchRequests {
		b.Run(br.name, func(b *testing.B) {
			_, c, fc := fakeServer(helloRoutes)
			b.ReportAllocs()
			b.SetBytes(int64(len(br.req)))
			for b.Loop() {
				fc.in = br.req
				c.traffic()
			}
		})
	}
}

// Ten pipelined requests in one read, answered in one write.
func BenchmarkServeHTTP1Pipelined10(b *testing.B) {
	_, c, fc := fakeServer(helloRoutes)
	var in []byte
	for range 10 {
		in = append(in, "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n"...)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		fc.in = in
		c.traffic()
	}
}
