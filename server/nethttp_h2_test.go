package server_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	xhttp2 "golang.org/x/net/http2"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
)

// TestNetHTTPOverHTTP2: a net/http handler mounted with NetHTTPRoute serves HTTP/2
// streams (prior knowledge) as it serves HTTP/1.1 requests, on the worker pool.
func TestNetHTTPOverHTTP2(t *testing.T) {
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/api/{name}", server.NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Proto", r.Proto)
		fmt.Fprintf(w, "%s %s name=%s host=%s body=%s", r.Method, r.URL.Path, r.PathValue("name"), r.Host, body)
	})))
	srv.Upgrade(http2.New(http2.Config{}))
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	defer func() { stop(); <-done }()

	client := &http.Client{Transport: &xhttp2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
	resp, err := client.Post("http://"+srv.Addr().String()+"/api/bob", "text/plain", strings.NewReader("over h2"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := "POST /api/bob name=bob host=" + srv.Addr().String() + " body=over h2"
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || string(body) != want || resp.Header.Get("X-Proto") != "HTTP/2.0" {
		t.Fatalf("got %s %d %q %v\nwant %q", resp.Proto, resp.StatusCode, body, resp.Header, want)
	}
}

// TestNetHTTPSeesTLS: over switchyard's TLS a NetHTTP handler's request carries the
// session (r.TLS), as net/http's own server gives it.
func TestNetHTTPSeesTLS(t *testing.T) {
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Addr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	srv.Route("/tls", server.NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			fmt.Fprint(w, "no TLS")
			return
		}
		fmt.Fprintf(w, "sni=%s complete=%v", r.TLS.ServerName, r.TLS.HandshakeComplete)
	})))
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	defer func() { stop(); <-done }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}}}
	resp, err := client.Get("https://" + srv.Addr().String() + "/tls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "sni=localhost complete=true" {
		t.Fatalf("got %q", body)
	}
}
