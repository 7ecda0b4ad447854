package server

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAdoptServesAsIfAccepted: a connection another server accepted, with the bytes it
// had already read, is served by a loop from its first request on, keep-alive included.
func TestAdoptServesAsIfAccepted(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("/a", Route{HTTP: echoHandler}) })
	<-s.Ready()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	accepted, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	// The previous owner read the start of the request before handing the connection over.
	write(t, client, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
	br := bufio.NewReader(accepted)
	if _, err := br.Peek(10); err != nil {
		t.Fatal(err)
	}
	pending, _ := br.Peek(br.Buffered())
	if err := s.Adopt(accepted, pending); err != nil {
		t.Fatal(err)
	}
	cr := bufio.NewReader(client)
	for i, req := range []string{"", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"} {
		write(t, client, req)
		resp, body := readResponse(t, cr, "GET")
		want := []string{"POST /a body", "GET /a "}[i]
		if resp.StatusCode != 200 || body != want {
			t.Fatalf("request %d: %d %q, want %q", i, resp.StatusCode, body, want)
		}
	}
	if s.Open() != 1 {
		t.Fatalf("open %d, want 1", s.Open())
	}
}

// TestAdoptRefuses: Adopt says why it cannot take a connection, and closes it.
func TestAdoptRefuses(t *testing.T) {
	running := startServer(t, Config{}, nil)
	<-running.Ready()
	idle := New(Config{Addr: "127.0.0.1:0"}) // never served
	cases := []struct {
		name string
		srv  *Server
		conn func(t *testing.T) (net.Conn, net.Conn)
		want string
	}{
		{"not serving", idle, tcpPair, ErrNotServing.Error()},
		{"TLS session", running, func(t *testing.T) (net.Conn, net.Conn) {
			a, b := tcpPair(t)
			return tls.Server(a, &tls.Config{}), b
		}, ErrHandoffTLS.Error()},
		{"no descriptor", running, func(*testing.T) (net.Conn, net.Conn) { return net.Pipe() }, "cannot adopt a *net.pipe"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, peer := tc.conn(t)
			defer peer.Close()
			err := tc.srv.Adopt(conn, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			expectClosed(t, bufio.NewReader(peer))
		})
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return conn, peer
}

// TestHandoffPlainRequests: Server.Handoff moves any HTTP/1.1 connection, not only an
// upgrade: the request net/http got is answered by switchyard's route, and so are the
// next ones; a request with a body is refused before the hijack and net/http answers it.
func TestHandoffPlainRequests(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("/", Route{HTTP: echoHandler}) })
	errs := make(chan error, 2)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.Handoff(w, r)
		errs <- err
		if err != nil {
			http.Error(w, "net/http: "+err.Error(), http.StatusConflict)
		}
	}))
	defer web.Close()
	c, err := net.Dial("tcp", web.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	write(t, c, "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{"GET /first ", "GET /second "} {
		if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != want {
			t.Fatalf("%d %q, want %q", resp.StatusCode, body, want)
		}
	}
	if err := <-errs; err != nil {
		t.Fatalf("Handoff: %v", err)
	}

	resp, err := http.Post(web.URL+"/b", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-errs; !errors.Is(err, ErrHandoffBody) || resp.StatusCode != http.StatusConflict {
		t.Fatalf("with a body: %v, status %d", err, resp.StatusCode)
	}
}

// TestHandoffRefusesAnInvalidHead: the loop parses a handed-off request again from the
// fields of the *http.Request, which a middleware may have set to anything. A CR LF in a
// header value (here copied from the query) would end the request there and smuggle what
// follows in as a second request that net/http never saw; Handoff refuses such a request
// before the hijack, and net/http answers it.
func TestHandoffRefusesAnInvalidHead(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("/", Route{HTTP: echoHandler}) })
	errs := make(chan error, 1)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name := r.URL.Query().Get("name"); name != "" {
			r.Header.Set("X-Client-Name", name) // a middleware passes it on
		}
		if field := r.URL.Query().Get("field"); field != "" {
			r.Header[field] = []string{"v"}
		}
		err := s.Handoff(w, r)
		errs <- err
		if err != nil {
			http.Error(w, "net/http: "+err.Error(), http.StatusConflict)
		}
	}))
	defer web.Close()
	cases := []struct{ name, query string }{
		{"CR LF in a header value", "name=bob%0d%0a%0d%0aDELETE%20/admin%20HTTP/1.1%0d%0aHost:%20x"},
		{"a header name that is not a token", "field=X%20Y"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", web.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			write(t, c, "GET /first?"+tc.query+" HTTP/1.1\r\nHost: x\r\n\r\n")
			br := bufio.NewReader(c)
			resp, body := readResponse(t, br, "GET")
			if err := <-errs; !errors.Is(err, ErrHandoffHeader) || resp.StatusCode != http.StatusConflict {
				t.Fatalf("Handoff: %v; answered %d %q, want ErrHandoffHeader and net/http's 409", err, resp.StatusCode, body)
			}
		})
	}
}
