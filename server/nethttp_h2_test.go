package server_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
		fmt.Fprintf(w, "%s %s name=%s host=%s local=%v body=%s", r.Method, r.URL.Path, r.PathValue("name"), r.Host,
			r.Context().Value(http.LocalAddrContextKey), body)
	})))
	srv.Upgrade(http2.New(http2.Config{}))
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	defer func() { stop(); <-done }()

	client := h2cClient()
	resp, err := client.Post("http://"+srv.Addr().String()+"/api/bob", "text/plain", strings.NewReader("over h2"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := "POST /api/bob name=bob host=" + srv.Addr().String() + " local=" + srv.Addr().String() + " body=over h2"
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

// h2cClient is an HTTP/2 client by prior knowledge over cleartext.
func h2cClient() *http.Client {
	return &http.Client{Transport: &xhttp2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
}

// TestNetHTTPContextEndsWithItsStream: a client that gives up on a request resets its
// HTTP/2 stream (RST_STREAM CANCEL); the net/http handler still running for it sees its
// context cancelled, as under net/http's own server, and the connection's other streams
// go on.
func TestNetHTTPContextEndsWithItsStream(t *testing.T) {
	started := make(chan struct{}, 1)
	ended := make(chan error, 1)
	base, client := slowFastH2Server(t, server.Config{}, started, ended)
	reqCtx, giveUp := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(reqCtx, "GET", base+"/slow", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-started
	giveUp()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the client's request ended with %v, want context.Canceled", err)
	}
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler: %v", err)
	}
	resp, err := client.Get(base + "/fast")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(body) != "fast" {
		t.Fatalf("after the reset: %s %q", resp.Proto, body)
	}
}

// TestNetHTTPHeadOverHTTP2: a response to HEAD announces the Content-Length the handler
// set (what a GET would carry, as http.FileServer sets it), or else the length of the body
// it wrote, over HTTP/2 as over HTTP/1.1; and carries no body.
func TestNetHTTPHeadOverHTTP2(t *testing.T) {
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/announced", server.NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1234")
		if r.Method != "HEAD" {
			w.Write(make([]byte, 1234))
		}
	})))
	srv.Route("/written", server.NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "seven b")
	})))
	srv.Upgrade(http2.New(http2.Config{}))
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	defer func() { stop(); <-done }()

	for _, tc := range []struct {
		path string
		want int64
	}{{"/announced", 1234}, {"/written", 7}} {
		for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
			client := http.DefaultClient
			if proto == "HTTP/2" {
				client = h2cClient()
			}
			resp, err := client.Head("http://" + srv.Addr().String() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Proto[:6] != proto[:6] || resp.StatusCode != 200 || resp.ContentLength != tc.want || len(body) != 0 {
				t.Errorf("HEAD %s over %s: %s %d Content-Length %d, %d body bytes; want Content-Length %d",
					tc.path, proto, resp.Proto, resp.StatusCode, resp.ContentLength, len(body), tc.want)
			}
		}
	}
}

// TestHandlerTimeoutOverHTTP2: a worker-pool handler that outlives HandlerTimeout gets
// its stream a 503 naming the timeout, and its NetHTTP context cancelled, as over
// HTTP/1.1; the connection, which only waits for the server, is not the client's fault
// and stays for its other streams (BodyTimeout, the client's progress, is far shorter).
func TestHandlerTimeoutOverHTTP2(t *testing.T) {
	ended := make(chan error, 1)
	base, client := slowFastH2Server(t, server.Config{HandlerTimeout: 300 * time.Millisecond, BodyTimeout: 50 * time.Millisecond}, nil, ended)
	resp, err := client.Get(base + "/slow")
	if err != nil {
		t.Fatalf("the slow stream: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), "HandlerTimeout") {
		t.Fatalf("the slow stream: %d %q, want 503 naming HandlerTimeout", resp.StatusCode, body)
	}
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("the handler's context: %v", err)
	}
	var conns atomic.Int32
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if !i.Reused {
			conns.Add(1)
		}
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", base+"/fast", nil)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("the next stream: %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "fast" || conns.Load() != 0 {
		t.Fatalf("the next stream: %d %q on a new connection: %v", resp.StatusCode, body, conns.Load() != 0)
	}
}

// slowFastH2Server serves HTTP/2 (prior knowledge) with cfg, until the test ends: /slow a
// NetHTTP handler that signals started (when not nil), waits for its request's context to
// end and reports how on ended; /fast answers "fast" on the loop. It returns the base URL and an h2c
// client.
func slowFastH2Server(t *testing.T, cfg server.Config, started chan<- struct{}, ended chan<- error) (string, *http.Client) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	srv := server.New(cfg)
	srv.Route("/slow", server.NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if started != nil {
			started <- struct{}{}
		}
		select {
		case <-r.Context().Done():
			ended <- r.Context().Err()
		case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
			ended <- errors.New("the context was not cancelled within 20s")
		}
	})))
	// On the loop: HandlerTimeout, which a test may set short, does not bound it.
	srv.Route("/fast", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) { _, _ = w.WriteString("fast") }})
	srv.Upgrade(http2.New(http2.Config{}))
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	t.Cleanup(func() { stop(); <-done })
	return "http://" + srv.Addr().String(), h2cClient()
}
