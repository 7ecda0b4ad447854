package main

import (
	"context"
	"crypto/tls"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// browserPage is served at /page: its script opens wss://<same host>/echo, sends a
// message, writes what came back into the page and reports it, with the close code, to
// /result, a request the test waits for.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>switchyard wss</title></head>
<body><p id="out">pending</p>
<script>
const out = document.getElementById("out");
const sent = "hello from chromium \u2713";
let got = "no message";
const report = (code) => {
  out.textContent = got + " close=" + code;
  fetch("/result?echo=" + encodeURIComponent(got) + "&code=" + code);
};
try {
  const ws = new WebSocket("wss://" + location.host + "/echo");
  ws.onopen = () => ws.send(sent);
  ws.onmessage = (e) => { got = e.data === sent ? "echo-ok" : "echo-wrong:" + e.data; ws.close(1000, "done"); };
  ws.onclose = (e) => report(e.code);
} catch (e) {
  got = "exception:" + e;
  report(0);
}
</script></body></html>
`

// browserRecord is what the in-process server saw of the browser.
type browserRecord struct {
	mu          sync.Mutex
	pageProto   int    // ProtoMajor of the /page request
	pageALPN    string // ALPN of the connection it came on
	wsALPN      string // ALPN of the connection the WebSocket opened on
	wsOpened    int
	wsMessages  []string
	result      url.Values // the page's report: echo=echo-ok&code=1000
	resultProto int
	resultDone  chan struct{}
}

// Chromium (headless, told to ignore the self-signed certificate) loads a page over
// HTTP/2 from a TLS listener (ALPN h2) and opens a wss echo from it: the server records
// the page request's protocol, the WebSocket's messages, and the script's report (what
// came back and the close code), fetched over the page's HTTP/2 connection.
//
// The server is built in the test with the library API (Config.TLS, HTTP/2, the echo
// handler `serve` installs and the page), so it can see each request's protocol.
func TestTLSChromiumLoadsPageOverH2AndOpensWSS(t *testing.T) {
	chromium := lookTool(t, "chromium")
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 1,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	rec := &browserRecord{resultDone: make(chan struct{})}
	alpnOf := func(c *server.Conn) string {
		if c == nil {
			return "?"
		}
		st, ok := c.TLSConnectionState()
		if !ok {
			return "cleartext"
		}
		return st.NegotiatedProtocol
	}
	srv.Route("/page", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		rec.mu.Lock()
		rec.pageProto, rec.pageALPN = r.ProtoMajor, alpnOf(r.Conn())
		rec.mu.Unlock()
		w.Header("Content-Type", "text/html; charset=utf-8")
		w.Header("Cache-Control", "no-store")
		_, _ = w.WriteString(browserPage)
	}})
	srv.Route("/result", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		q, _ := url.ParseQuery(string(r.Query))
		rec.mu.Lock()
		if rec.result == nil {
			rec.result, rec.resultProto = q, r.ProtoMajor
			close(rec.resultDone)
		}
		rec.mu.Unlock()
		w.WriteHeader(204)
	}})
	h := websocketHandler(nil)
	h.OnOpen = func(c *websocket.Conn) {
		rec.mu.Lock()
		rec.wsOpened++
		rec.wsALPN = alpnOf(c.Conn())
		rec.mu.Unlock()
	}
	h.OnMessage = func(c *websocket.Conn, m websocket.Message) {
		rec.mu.Lock()
		rec.wsMessages = append(rec.wsMessages, string(m.Payload))
		rec.mu.Unlock()
		_ = c.Write(m.Op, m.Payload)
	}
	srv.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(h)}})
	srv.Upgrade(http2.New(http2.Config{}))
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })

	// Chromium stays up with the page open until the page has reported (it runs no
	// --dump-dom: that prints the DOM once the page has loaded, before the WebSocket's
	// round trip, which virtual time does not wait for), then is stopped with its
	// process group.
	pageURL := "https://" + srv.Addr().String() + "/page"
	cmd := exec.Command(chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-dev-shm-usage", "--ignore-certificate-errors",
		"--user-data-dir="+t.TempDir(), pageURL)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// stop ends Chromium and what is left of its process group; once it returns,
	// nothing writes to stderr any more.
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	select {
	case <-rec.resultDone:
		stop()
	case err := <-exited:
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("chromium exited before the page reported: %v\nstderr:\n%s", err, tail(stderr.String(), 3000))
	case <-time.After(20 * time.Second):
		stop()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		t.Fatalf("the page did not report within 20s (page over HTTP/%d, %d WebSocket opened, messages %q)\nstderr:\n%s",
			rec.pageProto, rec.wsOpened, rec.wsMessages, tail(stderr.String(), 3000))
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	st := srv.TLSStats()
	t.Logf("chromium: page over HTTP/%d (ALPN %q), WebSocket on ALPN %q, messages %q, report %v over HTTP/%d; TLS handshakes %d (h2 %d, http/1.1 %d, TLS 1.3 %d)",
		rec.pageProto, rec.pageALPN, rec.wsALPN, rec.wsMessages, rec.result, rec.resultProto, st.Completed, st.ALPNH2, st.ALPNHTTP11, st.TLS13)
	if rec.pageProto != 2 || rec.pageALPN != "h2" {
		t.Errorf("the page came over HTTP/%d on a connection with ALPN %q, want HTTP/2 by ALPN h2", rec.pageProto, rec.pageALPN)
	}
	if st.ALPNH2 < 1 {
		t.Errorf("TLS stats count %d handshakes with ALPN h2, want at least 1", st.ALPNH2)
	}
	if rec.wsOpened != 1 || len(rec.wsMessages) != 1 || rec.wsMessages[0] != "hello from chromium ✓" {
		t.Errorf("WebSocket: %d opened, messages %q; want 1 and the page's message", rec.wsOpened, rec.wsMessages)
	}
	if rec.result.Get("echo") != "echo-ok" || rec.result.Get("code") != "1000" {
		t.Errorf("the page reported %v, want echo=echo-ok code=1000", rec.result)
	}
	if rec.resultProto != 2 {
		t.Errorf("the page's report came over HTTP/%d, want HTTP/2", rec.resultProto)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
