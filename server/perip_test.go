package server

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// MaxConnsPerIP: a client address with that many connections open gets 503 for another
// (and the rest of the server nothing of it), and a slot frees when one of its connections
// closes. Behind the PROXY protocol the address is the header's, also on a Unix-domain
// socket, whose peers have none of their own (TestUnixSocketPeersAreNotCappedPerIP).
func TestMaxConnsPerIP(t *testing.T) {
	cases := []struct {
		name        string
		proxy, unix bool
	}{
		{"socket address", false, false},
		{"PROXY header's address", true, false},
		{"PROXY header's address over a Unix socket", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{MaxConnsPerIP: 2}
			if tc.unix {
				cfg.Addr, _ = servertest.UnixSocket(t)
			}
			var s *Server
			if tc.proxy {
				s, _ = startProxied(t, cfg)
			} else {
				s = startServer(t, cfg, func(s *Server) { s.Route("/", Route{HTTP: okHandler("ok")}) })
			}
			// open connects from client (an address in the PROXY header) and checks the
			// answer to a request.
			open := func(client string, want int) (net.Conn, *bufio.Reader) {
				t.Helper()
				c := dial(t, s)
				if tc.proxy {
					write(t, c, "PROXY TCP4 "+client+" 198.51.100.1 4711 80\r\n")
				}
				write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
				br := bufio.NewReader(c)
				resp, body := readResponse(t, br, "GET")
				if resp.StatusCode != want {
					t.Fatalf("client %s: status %d, want %d (%q)", client, resp.StatusCode, want, body)
				}
				if want == 503 && !strings.Contains(body, "MaxConnsPerIP") {
					t.Fatalf("503 body %q does not name MaxConnsPerIP", body)
				}
				return c, br
			}
			first, _ := open("203.0.113.7", 200)
			open("203.0.113.7", 200)
			c, br := open("203.0.113.7", 503)
			expectClosed(t, br)
			_ = c.Close()
			if tc.proxy {
				open("203.0.113.8", 200) // another client behind the same balancer
			}
			_ = first.Close()
			// The close reaches the loop asynchronously: a new connection is admitted once
			// it has (the deadline only guards against a hang).
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				c := dial(t, s)
				if tc.proxy {
					write(t, c, "PROXY TCP4 203.0.113.7 198.51.100.1 4711 80\r\n")
				}
				write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
				resp, _ := readResponse(t, bufio.NewReader(c), "GET")
				_ = c.Close()
				if resp.StatusCode == 200 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no slot freed after a connection closed: %d", resp.StatusCode)
				}
			}
		})
	}
}
