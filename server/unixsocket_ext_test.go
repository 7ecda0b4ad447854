package server_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"

	gws "github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/h2ws"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// Over a Unix-domain socket (Config.Addr "unix:...") every protocol is served as over
// TCP: HTTP/1.1, a WebSocket upgrade and its echo, HTTP/2 with prior knowledge, and TLS.
// Handlers see the peer's *net.UnixAddr, and so do the access log and the debug log (a
// refused upgrade's line), which must not choke on an address that is not TCP's.
func TestUnixSocketServesEveryProtocol(t *testing.T) {
	log := &servertest.LogBuffer{}
	addr, path := servertest.UnixSocket(t)
	plain := server.New(server.Config{Addr: addr, Loops: 2,
		Logger:    slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		AccessLog: slog.New(slog.NewTextHandler(log, nil))})
	installTLSTestRoutes(plain, false)
	plain.Route("/addrs", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		_, _ = fmt.Fprintf(w, "%T %s, %T %s", r.RemoteAddr(), r.RemoteAddr(), r.Conn().LocalAddr(), r.Conn().LocalAddr())
	}})
	servertest.Start(t, plain)
	tlsAddr, _ := servertest.UnixSocket(t)
	secure := startTLS(t, server.Config{Addr: tlsAddr}, false)

	for _, tc := range []struct {
		name     string
		srv      *server.Server
		exchange func(t *testing.T, c net.Conn)
	}{
		{"HTTP/1.1", plain, func(t *testing.T, c net.Conn) {
			br := bufio.NewReader(c)
			_, body := tlsGet(t, c, br, "/addrs")
			if want := fmt.Sprintf("*net.UnixAddr %s, *net.UnixAddr %s", c.LocalAddr(), path); body != want {
				t.Fatalf("the handler saw %q, want %q", body, want)
			}
			if resp, _ := tlsGet(t, c, br, "/echo"); resp.StatusCode != 426 { // logged at debug
				t.Fatalf("GET /echo: %d, want 426", resp.StatusCode)
			}
		}},
		{"WebSocket echo", plain, func(t *testing.T, c net.Conn) {
			br, _, err := gws.Dialer{}.Upgrade(c, &url.URL{Scheme: "ws", Host: "localhost", Path: "/echo"})
			if err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			rw := struct {
				io.Reader
				io.Writer
			}{c, c}
			if br != nil {
				rw.Reader = io.MultiReader(br, c)
			}
			if err := wsutil.WriteClientText(rw, []byte("over a socket file")); err != nil {
				t.Fatal(err)
			}
			if got, err := wsutil.ReadServerText(rw); err != nil || string(got) != "over a socket file" {
				t.Fatalf("echo: %q, %v", got, err)
			}
		}},
		{"HTTP/2 prior knowledge", plain, func(t *testing.T, c net.Conn) {
			hc, err := h2ws.Start(c)
			if err != nil {
				t.Fatal(err)
			}
			st, resp, err := hc.Request(true, ":method", "GET", ":scheme", "http", ":path", "/remote", ":authority", "x")
			if err != nil || resp.Status != 200 {
				t.Fatalf("GET /remote over HTTP/2: %v %v", resp, err)
			}
			if body, _ := io.ReadAll(st); string(body) != c.LocalAddr().String() {
				t.Fatalf("Request.RemoteAddr() over HTTP/2 = %q, want %q", body, c.LocalAddr())
			}
		}},
		{"TLS", secure.srv, func(t *testing.T, c net.Conn) {
			tc := tls.Client(c, secure.clientConfig("http/1.1"))
			if _, body := tlsGet(t, tc, bufio.NewReader(tc), "/remote"); body != c.LocalAddr().String() {
				t.Fatalf("RemoteAddr() over TLS = %q, want %q", body, c.LocalAddr())
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.exchange(t, servertest.Dial(t, tc.srv.Addr())) })
	}
	lines := log.String()
	for _, want := range []string{
		"msg=access proto=HTTP/1.1 method=GET target=/addrs status=200",
		"msg=access proto=HTTP/2.0 method=GET target=/remote status=200",
		"upgrade=websocket",
		"remote=@",
		"level=DEBUG",
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("the log lacks %q:\n%s", want, lines)
		}
	}
}
