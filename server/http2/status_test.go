package http2

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"golang.org/x/net/http2"
)

// Over HTTP/2 as over HTTP/1.1, a handler's status reaches the wire only as a valid final
// status (RFC 9110 §15), and a 205 carries no content (§15.3.6): content-length 0 and no
// DATA.
func TestH2HandlerStatusIsValid(t *testing.T) {
	s := startServer(t, server.Config{}, func(s *server.Server) {
		s.Upgrade(New(Config{}))
		s.Route("/status", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			code, _ := strconv.Atoi(string(r.Query))
			w.WriteHeader(code)
			_, _ = w.WriteString("body")
		}})
	})
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, tc := range []struct {
		set, want int
		length    string
		body      string
	}{
		{205, 205, "0", ""},
		{599, 599, "4", "body"},
		{999, 500, "4", "body"},
		{0, 500, "4", "body"},
	} {
		t.Run(strconv.Itoa(tc.set), func(t *testing.T) {
			resp, err := client.Get("http://" + s.Addr().String() + "/status?" + strconv.Itoa(tc.set))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil || resp.StatusCode != tc.want || string(body) != tc.body || resp.Header.Get("Content-Length") != tc.length {
				t.Fatalf("got %d, content-length %q, body %q (%v); want %d, %q, %q",
					resp.StatusCode, resp.Header.Get("Content-Length"), body, err, tc.want, tc.length, tc.body)
			}
		})
	}
}
