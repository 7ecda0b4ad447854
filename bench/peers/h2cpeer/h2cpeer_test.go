package h2cpeer

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/http2"
)

// The peer must really speak h2c with prior knowledge and serve both routes, or the
// benchmark compares against nothing.
func TestPeerServesH2c(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { _ = Serve(ln) }()
	client := &http.Client{Transport: &http2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
	base := "http://" + ln.Addr().String()
	resp, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(body) != RootText {
		t.Fatalf("GET /: %s %q", resp.Proto, body)
	}
	payload := bytes.Repeat([]byte("echo"), 1000)
	resp, err = client.Post(base+"/echo", "application/octet-stream", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, payload) || !strings.HasPrefix(resp.Proto, "HTTP/2") {
		t.Fatalf("POST /echo: %s, %d bytes", resp.Proto, len(body))
	}
}
