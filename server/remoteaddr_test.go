package server

import (
	"bufio"
	"net"
	"testing"
)

// The peer's address is kept inline in the connection rather than as heap objects
// (server/internal/gnet/accept_peer.go); handlers must still see exactly the
// client's address and port, over IPv4 and IPv6.
func TestRemoteAddrIsTheClients(t *testing.T) {
	for _, tc := range []struct{ name, addr string }{
		{"IPv4", "127.0.0.1:0"},
		{"IPv6", "[::1]:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "IPv6" {
				ln, err := net.Listen("tcp", tc.addr)
				if err != nil {
					t.Skipf("no IPv6 loopback on this machine: %v", err)
				}
				ln.Close()
			}
			s := startServer(t, Config{Addr: tc.addr}, func(s *Server) {
				s.Route("", Route{HTTP: func(w *ResponseWriter, r *Request) {
					_, _ = w.WriteString(r.RemoteAddr().String())
				}})
			})
			c := dial(t, s)
			write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			_, body := readResponse(t, bufio.NewReader(c), "GET")
			if want := c.LocalAddr().String(); body != want {
				t.Fatalf("RemoteAddr() = %q, want the client's %q", body, want)
			}
		})
	}
}
