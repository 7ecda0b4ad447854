package http2

import (
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

// routes are the routes the HTTP/2 tests serve: "/" answers a fixed text (h2spec needs a
// body of at least 5 bytes for its flow-control cases) and "/echo" echoes the body.
func routes(s *server.Server) {
	s.Route("/", server.Route{HTTP: okHandler("hello from switchyard over HTTP/2\n")})
	// Like `switchyard serve`'s /echo: HTTP/1.1 must upgrade (to the test's "websocket"
	// or to h2c), HTTP/2 gets the body back.
	s.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{testUpgrader{"websocket"}},
		HTTP: func(w *server.ResponseWriter, r *server.Request) {
			w.Header("Content-Type", "application/octet-stream")
			_, _ = w.Write(r.Body)
		}})
}

// h2Routes are routes with HTTP/2 enabled on every route, both ways in.
func h2Routes(s *server.Server) {
	routes(s)
	s.Upgrade(New(Config{}))
}

func startH2Server(t testing.TB) *server.Server {
	return startServer(t, server.Config{Logger: discard}, h2Routes)
}

// helloRoutes answer every path with "hello".
func helloRoutes(s *server.Server) {
	body := []byte("hello")
	s.Route("", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/plain")
		_, _ = w.Write(body)
	}})
}

// testUpgrader stands in for WebSocket on /echo, so that a route offers a protocol of its
// own besides the server's h2c: it accepts every request for its token, and its protocol
// answers each read with the token and the bytes.
type testUpgrader struct{ token string }

func (u testUpgrader) Token() string { return u.token }

func (u testUpgrader) Upgrade(c *server.Conn, r *server.Request, hdr []byte) (server.Protocol, []byte, *server.Rejection) {
	return testProtocol{u.token}, append(hdr, "X-Protocol: "+u.token+"\r\n"...), nil
}

type testProtocol struct{ token string }

func (p testProtocol) Start(c *server.Conn, r *server.Request) {
	c.WriteString("[" + p.token + " started]")
}

func (p testProtocol) Serve(c *server.Conn, in []byte) (int, error) {
	c.WriteString(p.token + ":")
	c.Write(in)
	return len(in), nil
}

func (p testProtocol) Timeout(c *server.Conn)           { c.Close() }
func (p testProtocol) Closed(c *server.Conn, err error) {}
