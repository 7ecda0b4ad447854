package admin

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// One admin listener for `serve`'s two servers: the TLS one's handshakes are exported,
// and its requests are added to the cleartext one's.
func TestMetricsOfATLSServerBesideACleartextOne(t *testing.T) {
	plain := startServer(t)
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	secure := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 1, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	secure.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) { _, _ = w.WriteString("ok") }})
	if err := secure.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = secure.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	exchange(t, plain, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1)
	c, err := tls.Dial("tcp", secure.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	rec := httptest.NewRecorder()
	Handler(plain, secure).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		"switchyard_http_requests_total 2\n",
		`switchyard_tls_handshakes_total{outcome="completed"} 1` + "\n",
		`switchyard_tls_alpn_total{protocol="http/1.1"} 1` + "\n",
		`switchyard_tls_sessions_total{version="1.3"} 1` + "\n",
		"switchyard_tls_handshake_seconds_count 1\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grepSwitchyard(body))
		}
	}
	if strings.Contains(scrape(t, plain), "switchyard_tls_") {
		t.Error("a cleartext server alone exports TLS metrics")
	}
}
