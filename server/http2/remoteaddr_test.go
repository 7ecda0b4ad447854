package http2

import (
	"bufio"
	"fmt"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

// Issue 14, item 13: a worker-pool handler of an HTTP/2 stream gets the client's address
// from Request.RemoteAddr, as one on the loop does (HandleOffLoop's copy of the request
// dropped it: RemoteAddr returned nil off the loop).
func TestRemoteAddrOverHTTP2(t *testing.T) {
	for _, pool := range []bool{false, true} {
		t.Run(fmt.Sprintf("UseWorkerPool=%v", pool), func(t *testing.T) {
			s := startServer(t, server.Config{}, func(s *server.Server) {
				s.Route("/", server.Route{UseWorkerPool: pool, HTTP: func(w *server.ResponseWriter, r *server.Request) {
					_, _ = w.WriteString(fmt.Sprint(r.RemoteAddr()))
				}})
				s.Upgrade(New(Config{}))
			})
			c := dial(t, s)
			cl := newH2Client(t, c, bufio.NewReader(c))
			cl.write(clientPreface())
			cl.write(cl.request(nil, 1, "GET", "/", nil))
			r := cl.readUntil(1).streams[1]
			if r == nil {
				t.Fatal("no response on stream 1")
			}
			if want := c.LocalAddr().String(); r.status != "200" || string(r.body) != want {
				t.Fatalf("got %s %q, want 200 with the client's address %s", r.status, r.body, want)
			}
		})
	}
}
