package probe

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	wsframe "github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// testTimeout bounds each probe in tests. Local servers answer in microseconds; the
// margin is for loaded machines running -race, where a spurious timeout would read as a
// wrong verdict.
const testTimeout = 10 * time.Second

func echo(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) }

// startSwitchyard runs switchyard in-process with the probe's reference routes: /echo
// (the brief's WebSocket echo, upgrade required), /chat (subprotocols and
// permessage-deflate), /strict (same-origin only) and / (plain HTTP). h2 also enables h2c and prior knowledge.
// It returns the host:port.
func startSwitchyard(t *testing.T, h2 bool) string {
	t.Helper()
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnMessage: echo, CheckOrigin: websocket.AllowAnyOrigin,
	})}})
	srv.Route("/chat", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnMessage: echo, CheckOrigin: websocket.AllowAnyOrigin,
		Subprotocols: []string{"superchat"}, Compression: &wsframe.DeflateConfig{},
	})}})
	// /strict keeps the default Origin check: same origin only.
	srv.Route("/strict", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnMessage: echo,
	})}})
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		_, _ = w.WriteString("hello\n")
	}})
	if h2 {
		srv.Upgrade(http2.New(http2.Config{}))
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(hangGuard): // well past the server's own shutdown timeout
			t.Error("switchyard did not stop")
		}
	})
	return srv.Addr().String()
}

// startHTTP1 runs net/http's server, which speaks HTTP/1.1 only without TLS, with a
// handler that ignores any Upgrade header.
func startHTTP1(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello\n") }
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

// gobwasHandler is an RFC 6455 echo server the project did not write (gobwas/ws over
// net/http), answering refusals its own way: 400 with "handshake error: bad ... header",
// and 426 with Sec-WebSocket-Version: 13 for a wrong version.
func gobwasHandler(w http.ResponseWriter, r *http.Request) {
	conn, _, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return // gobwas/ws wrote the refusal
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	for {
		msg, op, err := wsutil.ReadClientData(conn)
		if err != nil {
			return // includes the close frame, which ReadClientData answers
		}
		if err := wsutil.WriteServerMessage(conn, op, msg); err != nil {
			return
		}
	}
}

// gorillaLikeHandler refuses as gorilla/websocket does: 400, the body "Bad Request" and
// Sec-WebSocket-Version: 13 for anything short of a valid handshake, so the body says
// nothing about why.
func gorillaLikeHandler(w http.ResponseWriter, r *http.Request) {
	if !strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade") ||
		!strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	gobwasHandler(w, r)
}

// startStrippingProxy runs a TCP proxy in front of upstream that removes the Upgrade
// and Connection lines from each request head, as a proxy that drops hop-by-hop headers
// (RFC 9110 §7.6.1) without forwarding upgrades does, then pipes both ways.
func startStrippingProxy(t *testing.T, upstream string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go stripAndPipe(c, upstream)
		}
	}()
	return ln.Addr().String()
}

func stripAndPipe(client net.Conn, upstream string) {
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(client)
	var head strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "upgrade", "connection":
			continue
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
	}
	up, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer up.Close()
	if _, err := io.WriteString(up, head.String()); err != nil {
		return
	}
	go func() { _, _ = io.Copy(up, br) }()
	_, _ = io.Copy(client, up)
}

// scriptedServer accepts connections and answers each one with answer(request head).
// An empty answer means: say nothing and hold the connection open until the client goes.
func scriptedServer(t *testing.T, answer func(head string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				br := bufio.NewReader(c)
				var head strings.Builder
				for {
					line, err := br.ReadString('\n')
					head.WriteString(line)
					if err != nil || line == "\r\n" {
						break
					}
				}
				if a := answer(head.String()); a != "" {
					_, _ = io.WriteString(c, a)
					if tc, ok := c.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
				}
				_, _ = io.Copy(io.Discard, br)
			}()
		}
	}()
	return ln.Addr().String()
}

func run(t *testing.T, url string, opts Options) Report {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = testTimeout
	}
	r, err := Run(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Run(%s): %v", url, err)
	}
	if len(r.Probes) != 9 {
		t.Fatalf("Run(%s): %d probes, want 9", url, len(r.Probes))
	}
	return r
}

// dump shows the text report when a test fails, so the failure explains itself.
func dump(t *testing.T, r *Report) {
	t.Helper()
	if t.Failed() {
		var b strings.Builder
		_ = r.WriteText(&b)
		t.Log("\n" + b.String())
	}
}

func verdictCodes(r *Report) map[string]string {
	m := map[string]string{}
	for _, p := range r.Probes {
		m[p.ID] = p.Verdict.Code
	}
	return m
}
