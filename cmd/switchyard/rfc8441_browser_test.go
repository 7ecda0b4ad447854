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

// Does Chromium open a wss WebSocket as an HTTP/2 stream (RFC 8441) when it already has an
// HTTP/2 connection to the origin whose SETTINGS carry ENABLE_CONNECT_PROTOCOL=1?
//
// Chromium shipped WebSockets over HTTP/2 on by default in 2018 (blink-dev "Intent to ship:
// WebSockets over HTTP/2": secure WebSockets only, on an already established HTTP/2
// connection, only once the server has advertised the setting; no flag, no
// --enable-features). This test asserts it for the Chromium installed here, first against
// the control server (Go's net/http with extended CONNECT on), so the answer does not
// depend on switchyard, then against switchyard.
//
// The page is browserPage (tls_browser_test.go): loaded over HTTP/2, it opens
// wss://<same host>/echo, sends a message, and reports the echo and the close code.
func TestRFC8441Chromium(t *testing.T) {
	chromium := lookTool(t, "chromium")
	version := chromiumVersion(chromium)
	t.Logf("%s", version)

	t.Run("control", func(t *testing.T) {
		_, secure, events := startControl8441Events(t)
		var seen []string
		var result url.Values
		runChromium(t, chromium, "https://"+secure+"/page", func(stop <-chan struct{}) bool {
			for {
				select {
				case e := <-events:
					seen = append(seen, e)
					if q, ok := strings.CutPrefix(e, "event result "); ok {
						result, _ = url.ParseQuery(q)
						return true
					}
				case <-stop:
					return false
				}
			}
		})
		t.Logf("control server saw %q", seen)
		if !contains(seen, "event connect /echo websocket") {
			t.Errorf("%s opened no WebSocket with extended CONNECT on the HTTP/2 connection (events %q)", version, seen)
		}
		for _, e := range seen {
			if strings.HasPrefix(e, "event get /echo") {
				t.Errorf("%s sent %q: an HTTP/1.1 upgrade, not RFC 8441", version, e)
			}
		}
		if result.Get("echo") != "echo-ok" || result.Get("code") != "1000" {
			t.Errorf("the page reported %v, want echo=echo-ok code=1000", result)
		}
	})

	t.Run("switchyard", func(t *testing.T) {
		cert, err := server.SelfSignedCertificate()
		if err != nil {
			t.Fatal(err)
		}
		srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 1,
			TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
		var mu sync.Mutex
		var result url.Values
		var messages []string
		var onStreams, onSockets int64 // open WebSockets by transport while the message is handled
		done := make(chan struct{})
		srv.Route("/page", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			w.Header("Content-Type", "text/html; charset=utf-8")
			w.Header("Cache-Control", "no-store")
			_, _ = w.WriteString(browserPage)
		}})
		srv.Route("/result", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			q, _ := url.ParseQuery(string(r.Query))
			mu.Lock()
			if result == nil {
				result = q
				close(done)
			}
			mu.Unlock()
			w.WriteHeader(204)
		}})
		h := websocketHandler(nil)
		h.OnMessage = func(c *websocket.Conn, m websocket.Message) {
			st := srv.Stats()
			mu.Lock()
			messages = append(messages, string(m.Payload))
			onStreams, onSockets = st.OpenOnStreams["websocket"], st.Open["websocket"]
			mu.Unlock()
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

		runChromium(t, chromium, "https://"+srv.Addr().String()+"/page", func(stop <-chan struct{}) bool {
			select {
			case <-done:
				return true
			case <-stop:
				return false
			}
		})
		mu.Lock()
		defer mu.Unlock()
		// Seen from the server: its count of open WebSockets by transport while the
		// message was handled (Stats.OpenOnStreams: on HTTP/2 streams; Stats.Open: on
		// sockets of their own, upgraded from HTTP/1.1), and its TLS handshakes: a
		// WebSocket opened by an HTTP/1.1 upgrade needs a TLS connection of its own with
		// ALPN http/1.1 (Chromium offers only http/1.1 on a connection for a WebSocket);
		// over RFC 8441 it rides the page's h2 connection.
		st := srv.TLSStats()
		t.Logf("%s against switchyard: WebSockets open on HTTP/2 streams %d, on sockets %d; TLS handshakes %d (ALPN h2 %d, http/1.1 %d), messages %q, report %v",
			version, onStreams, onSockets, st.Completed, st.ALPNH2, st.ALPNHTTP11, messages, result)
		if onStreams != 1 || onSockets != 0 {
			t.Errorf("while the message was handled: %d WebSockets open on HTTP/2 streams, %d on sockets; want 1 and 0 (RFC 8441)", onStreams, onSockets)
		}
		if st.ALPNHTTP11 != 0 {
			t.Errorf("%d TLS connections chose http/1.1: the WebSocket was an HTTP/1.1 upgrade, not a stream of the page's HTTP/2 connection (RFC 8441)", st.ALPNHTTP11)
		}
		if len(messages) != 1 || result.Get("echo") != "echo-ok" || result.Get("code") != "1000" {
			t.Errorf("messages %q, the page reported %v; want the page's message, echo=echo-ok code=1000", messages, result)
		}
	})
}

// chromiumVersion is `chromium --version`'s line naming the version (Debian's wrapper
// script may print a shell warning first).
func chromiumVersion(chromium string) string {
	out, _ := exec.Command(chromium, "--version").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Chromium ") || strings.HasPrefix(l, "Google Chrome ") {
			return strings.TrimSpace(l)
		}
	}
	return "chromium (version unknown: " + strings.TrimSpace(string(out)) + ")"
}

// runChromium runs headless Chromium on pageURL (flags as in
// TestTLSChromiumLoadsPageOverH2AndOpensWSS) until wait returns true (the page reported),
// failing the test when it returns false after 20 s or Chromium exits first. Chromium is
// stopped with its process group.
func runChromium(t *testing.T, chromium, pageURL string, wait func(stop <-chan struct{}) bool) {
	t.Helper()
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
	var exitErr error
	exited := make(chan struct{}) // closed once exitErr is set
	go func() { exitErr = cmd.Wait(); close(exited) }()
	stop := make(chan struct{}) // closed when Chromium exits or after 20 s
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	go func() {
		select {
		case <-exited:
		case <-deadline.C:
		}
		close(stop)
	}()
	ok := wait(stop)
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
	exitedEarly := !ok && exitErr != nil
	if !ok {
		t.Fatalf("the page did not report (chromium exited early %v: %v)\nstderr:\n%s", exitedEarly, exitErr, tail(stderr.String(), 3000))
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
