package main

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/switchyard-dev/switchyard/bench"
)

func TestTLSOptsCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   tlsOpts
		server string
		ok     bool
	}{
		{"cleartext for any peer", tlsOpts{}, "gnet", true},
		{"TLS for a TLS peer", tlsOpts{"c.pem", "k.pem"}, "nbio", true},
		{"a certificate without its key", tlsOpts{cert: "c.pem"}, "gws", false},
		{"a key without its certificate", tlsOpts{key: "k.pem"}, "gws", false},
		{"TLS for a peer without TLS", tlsOpts{"c.pem", "k.pem"}, "gnet", false},
	} {
		if err := tc.opts.check(tc.server); (err == nil) != tc.ok {
			t.Errorf("%s: check(%s) = %v", tc.name, tc.server, err)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitTLS waits until addr completes a TLS handshake.
func waitTLS(t *testing.T, addr string, cfg *tls.Config) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, cfg)
		if err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("%s: no TLS handshake within 10s", addr)
}

// Each TLS peer serves wss /echo with the harness's certificate (bench.WriteTLSFiles), and
// net/http answers GET / over HTTP/2 by ALPN. The peers run in this process and are not
// stopped (none has a stop); the test binary's exit ends them.
func TestTLSPeers(t *testing.T) {
	files, err := bench.WriteTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tlsFiles = tlsOpts{cert: files.Cert, key: files.Key}
	defer func() { tlsFiles = tlsOpts{} }()
	client := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}
	for _, name := range []string{"gws", "nbio", "gorilla"} {
		t.Run(name, func(t *testing.T) {
			addr := freeAddr(t)
			go func() { _ = servers[name](addr) }()
			waitTLS(t, addr, client)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			d := ws.Dialer{TLSConfig: client}
			c, _, _, err := d.Dial(ctx, "wss://"+addr+"/echo")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if err := wsutil.WriteClientBinary(c, []byte("over TLS")); err != nil {
				t.Fatal(err)
			}
			got, op, err := wsutil.ReadServerData(c)
			if err != nil || op != ws.OpBinary || string(got) != "over TLS" {
				t.Fatalf("echo: %q %v %v", got, op, err)
			}
		})
	}
	t.Run("nethttp", func(t *testing.T) {
		addr := freeAddr(t)
		go func() { _ = servers["nethttp"](addr) }()
		waitTLS(t, addr, client)
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.ProtoMajor != 2 || string(body) != rootText {
			t.Fatalf("got %s %q, want HTTP/2 and %q", resp.Proto, body, rootText)
		}
	})
}
