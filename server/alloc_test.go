package server

import (
	"io"
	"log/slog"
	"testing"

	"github.com/switchyard-dev/switchyard/parser/parsertest"
	"github.com/switchyard-dev/switchyard/server/internal/drive"
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

// fakeConn is a connection of a server with setup's routes, driven without a socket.
func fakeConn(setup func(*Server)) drive.Conn {
	s := New(Config{Logger: discard})
	setup(s)
	return newDriven(s)
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
			c := fakeConn(helloRoutes)
			allocs := testing.AllocsPerRun(200, func() {
				if c.Feed(br.req) {
					t.Fatal("request was refused")
				}
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per request, want 0", allocs)
			}
			if c.Written() == 0 {
				t.Fatal("no response written")
			}
		})
	}
}

func BenchmarkServeHTTP1(b *testing.B) {
	for _, br := range benchRequests {
		b.Run(br.name, func(b *testing.B) {
			c := fakeConn(helloRoutes)
			b.ReportAllocs()
			b.SetBytes(int64(len(br.req)))
			for b.Loop() {
				c.Feed(br.req)
			}
		})
	}
}

// Ten pipelined requests in one read, answered in one write.
func BenchmarkServeHTTP1Pipelined10(b *testing.B) {
	c := fakeConn(helloRoutes)
	var in []byte
	for range 10 {
		in = append(in, "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n"...)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		c.Feed(in)
	}
}
