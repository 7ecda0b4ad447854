package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "switchyard.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigErrorsNameTheBadKey(t *testing.T) {
	cases := []struct {
		name, file, wantErr string
	}{
		{"unknown key", `{"adr": ":1"}`, `unknown key "adr"`},
		{"nested unknown key", `{"timeouts": {"hedaer": "1s"}}`, `unknown key "hedaer"`},
		{"wrong type", `{"loops": "two"}`, `key "loops"`},
		{"bad duration", `{"timeouts": {"idle": "soon"}}`, `key "timeouts.idle": want a duration string such as "10s", not "soon"`},
		{"duration as a number", `{"timeouts": {"idle": 5}}`, `key "timeouts.idle": want a duration string`},
		{"trailing object", "{\"addr\": \":1\"}\n{\"addr\": \":2\"}", `more after the config object`},
		{"trailing garbage", `{"addr": ":1"} x`, `more after the config object`},
		{"bad log level", `{"log_level": "loud"}`, `log_level`},
		{"negative limit", `{"limits": {"max_headers": -1}}`, `limits.max_headers`},
		{"idle spins below -1", `{"idle_spins": -2}`, `idle_spins`},
		{"route path", `{"routes": [{"path": "echo", "kind": "echo"}]}`, `routes[0].path`},
		{"route pattern", `{"routes": [{"path": "/rooms/{id", "kind": "echo"}]}`, `routes[0].path`},
		{"route method", `{"routes": [{"path": "GET x", "kind": "echo"}]}`, `routes[0].path`},
		{"route kind", `{"routes": [{"path": "/", "kind": "text"}, {"path": "/x", "kind": "mirror"}]}`, `routes[1].kind`},
		{"duplicate path", `{"routes": [{"path": "/", "kind": "text"}, {"path": "/", "kind": "echo"}]}`, `routes[1].path`},
		{"overflow policy", `{"routes": [{"path": "/ws", "kind": "echo", "websocket": {"overflow": "panic"}}]}`, `routes[0].websocket.overflow`},
		{"syntax", `{"addr": }`, `JSON syntax error`},
		{"reuseport on a unix addr", `{"addr": "unix:/run/sw.sock", "reuseport": true}`, `reuseport: does not apply to a Unix-domain socket`},
		{"reuseport on a unix tls.addr", `{"reuseport": true, "tls": {"addr": "unix:/run/sws.sock", "self_signed": true}}`, `reuseport: does not apply`},
		{"unix_mode not octal", `{"unix_mode": "rw-rw----"}`, `key "unix_mode": want an octal mode string such as "0660", not "rw-rw----"`},
		{"unix_mode as a number", `{"unix_mode": 660}`, `key "unix_mode": want an octal mode string`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseServeArgs([]string{"-config", writeConfig(t, tc.file)})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one naming %q", err, tc.wantErr)
			}
		})
	}
}

func TestFlagsOverrideTheConfigFile(t *testing.T) {
	p := writeConfig(t, `{"addr": ":1111", "max_conns": 5, "max_conns_per_ip": 4, "idle_spins": 3, "timeouts": {"idle": "3s"}, "limits": {"max_body": 100}}`)
	cfg, err := parseServeArgs([]string{"-config", p, "-addr", "127.0.0.1:2222", "-idle-timeout", "7s", "-idle-spins", "-1"})
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.serverConfig()
	if sc.Addr != "127.0.0.1:2222" || sc.IdleTimeout != 7*time.Second || sc.IdleSpins != -1 {
		t.Fatalf("flags did not win: addr %q idle %v idle spins %d", sc.Addr, sc.IdleTimeout, sc.IdleSpins)
	}
	if sc.MaxConns != 5 || sc.MaxConnsPerIP != 4 || sc.Limits.MaxBodyBytes != 100 {
		t.Fatalf("file values lost: max_conns %d max_conns_per_ip %d max_body %d", sc.MaxConns, sc.MaxConnsPerIP, sc.Limits.MaxBodyBytes)
	}
	cfg, err = parseServeArgs([]string{"-config", p, "-max-conns-per-ip", "9"})
	if err != nil || cfg.serverConfig().MaxConnsPerIP != 9 {
		t.Fatalf("-max-conns-per-ip 9: %v, %v", cfg, err)
	}
	if _, err := parseServeArgs([]string{"-max-conns-per-ip", "-1"}); err == nil || !strings.Contains(err.Error(), "max_conns_per_ip") {
		t.Fatalf("-max-conns-per-ip -1: %v, want an error naming max_conns_per_ip", err)
	}
}

// hold_p, return_memory, proxy_protocol and access_log (and their flags) reach
// server.Config: hold_p on by default and off by default with NATS, return_memory on by
// default, proxy_protocol and access_log off; the flag wins over the file.
func TestOnOffSettingsReachTheServer(t *testing.T) {
	holdP := func(c server.Config) bool { return c.HoldP }
	returnMemory := func(c server.Config) bool { return c.ReturnMemory }
	proxyProtocol := func(c server.Config) bool { return c.ProxyProtocol }
	accessLog := func(c server.Config) bool { return c.AccessLog != nil }
	for _, tc := range []struct {
		name, file string
		args       []string
		get        func(server.Config) bool
		want       bool
	}{
		{"hold_p default", `{}`, nil, holdP, true},
		{"hold_p default with NATS", `{"nats": "nats://127.0.0.1:4222"}`, nil, holdP, false},
		{"hold_p off in the file", `{"hold_p": false}`, nil, holdP, false},
		{"hold_p on with NATS in the file", `{"hold_p": true, "nats": "nats://127.0.0.1:4222"}`, nil, holdP, true},
		{"hold_p off as a flag", `{}`, []string{"-hold-p", "false"}, holdP, false},
		{"hold_p flag wins", `{"hold_p": false}`, []string{"-hold-p=true"}, holdP, true},
		{"return_memory default", `{}`, nil, returnMemory, true},
		{"return_memory off in the file", `{"return_memory": false}`, nil, returnMemory, false},
		{"return_memory off as a flag", `{}`, []string{"-return-memory=false"}, returnMemory, false},
		{"return_memory flag wins", `{"return_memory": false}`, []string{"-return-memory", "true"}, returnMemory, true},
		{"proxy_protocol default", `{}`, nil, proxyProtocol, false},
		{"proxy_protocol on in the file", `{"proxy_protocol": true}`, nil, proxyProtocol, true},
		{"proxy_protocol on as a flag", `{}`, []string{"-proxy-protocol"}, proxyProtocol, true},
		{"proxy_protocol flag wins", `{"proxy_protocol": true}`, []string{"-proxy-protocol=false"}, proxyProtocol, false},
		{"access_log default", `{}`, nil, accessLog, false},
		{"access_log on in the file", `{"access_log": true}`, nil, accessLog, true},
		{"access_log on as a flag", `{}`, []string{"-access-log"}, accessLog, true},
		{"access_log flag wins", `{"access_log": true}`, []string{"-access-log=false"}, accessLog, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseServeArgs(append([]string{"-config", writeConfig(t, tc.file)}, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.get(cfg.serverConfig()); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// A configured server serves its routes: a text route, an echo route that does not require
// an upgrade, and the limit from the file.
func TestConfiguredRoutesServe(t *testing.T) {
	p := writeConfig(t, `{
		"addr": "127.0.0.1:0", "limits": {"max_body": 10},
		"routes": [
			{"path": "/hi", "kind": "text", "text": "hello from config"},
			{"path": "/open-echo", "kind": "echo", "require_upgrade": false}
		]}`)
	srv := serveArgs(t, "-config", p)
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute)) // only a hang meets it
	br := bufio.NewReader(c)
	get := func(raw string) (*http.Response, string) {
		t.Helper()
		if _, err := c.Write([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&sb)
		return resp, sb.String()
	}
	if resp, body := get("GET /hi HTTP/1.1\r\nHost: x\r\n\r\n"); resp.StatusCode != 200 || body != "hello from config" {
		t.Fatalf("/hi: %d %q", resp.StatusCode, body)
	}
	if resp, body := get("POST /open-echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nping"); resp.StatusCode != 200 || body != "ping" {
		t.Fatalf("/open-echo: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get("POST /open-echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"); resp.StatusCode != 413 {
		t.Fatalf("limits.max_body not applied: %d", resp.StatusCode)
	}
}

// The default routes are what README.md's table says: / (that path only) answers with a
// short text, /echo requires an upgrade, and other paths get 404.
func TestDefaultRoutes(t *testing.T) {
	srv := serveArgs(t)
	cases := []struct {
		req, bodyHas string
		status       int
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", rootText, 200},
		{"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", "no Upgrade header", 426},
		{"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", "", 404},
		{"GET /echo/more HTTP/1.1\r\nHost: x\r\n\r\n", "", 404},
	}
	for _, tc := range cases {
		t.Run(tc.req[:strings.Index(tc.req, " HTTP")], func(t *testing.T) {
			c, err := net.Dial("tcp", srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(time.Minute)) // only a hang meets it
			_, _ = c.Write([]byte(tc.req))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			_, _ = bufio.NewReader(resp.Body).WriteTo(&sb)
			if resp.StatusCode != tc.status || !strings.Contains(sb.String(), tc.bodyHas) {
				t.Fatalf("got %d %q, want %d with %q", resp.StatusCode, sb.String(), tc.status, tc.bodyHas)
			}
		})
	}
}

// serveArgs runs `switchyard serve` with args on a loopback port for the test's duration.
func serveArgs(t *testing.T, args ...string) *server.Server {
	t.Helper()
	cfg, err := parseServeArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	return serveConfigured(t, cfg)
}

// serveConfigured runs `switchyard serve` with cfg on a loopback port for the test's
// duration.
func serveConfigured(t *testing.T, cfg *serveConfig) *server.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	srv := server.New(cfg.serverConfig())
	installRoutes(srv, cfg)
	runServer(t, srv)
	return srv
}

// runServer listens and serves with srv until the test ends.
func runServer(t *testing.T, srv *server.Server) {
	t.Helper()
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// -origins lets browsers from the listed origins in, refuses other origins with 403, and
// admits clients that send no Origin at all, which are not browsers and so cannot be
// made to connect by another site (before, they were refused too).
func TestOriginsFlag(t *testing.T) {
	srv := serveArgs(t, "-origins", "https://a.example")
	cases := []struct {
		name, origin string
		status       int
	}{
		{"a listed origin", "Origin: https://a.example\r\n", 101},
		{"another origin", "Origin: https://b.example\r\n", 403},
		{"no Origin (not a browser)", "", 101},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(time.Minute))
			_, _ = c.Write([]byte("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + tc.origin + "\r\n"))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}

func TestConfigArgForms(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-config", "a.json"}, "a.json"},
		{[]string{"-addr", ":1", "--config=b.json"}, "b.json"},
		{[]string{"-config=c.json", "-addr", ":1"}, "c.json"},
		{[]string{"-addr", ":1"}, ""},
		{[]string{"-config"}, ""},
	}
	for _, tc := range cases {
		if got := configArg(tc.args); got != tc.want {
			t.Errorf("configArg(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// permessage-deflate without server context takeover unless a route asks for it: a kept
// compressor costs about 800 KiB per connection.
func TestWebSocketCompressionDefaults(t *testing.T) {
	on, off := true, false
	cases := []struct {
		name       string
		wc         *websocketConfig
		compressed bool
		takeover   bool
	}{
		{"no websocket section", nil, true, false},
		{"compression on", &websocketConfig{Compression: &on}, true, false},
		{"context takeover asked for", &websocketConfig{ContextTakeover: true}, true, true},
		{"compression off", &websocketConfig{Compression: &off}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := websocketHandler(tc.wc)
			if h.MaxInflateRatio != defaultInflateRatio {
				t.Fatalf("MaxInflateRatio %d, want %d", h.MaxInflateRatio, defaultInflateRatio)
			}
			if (h.Compression != nil) != tc.compressed {
				t.Fatalf("compression %v, want %v", h.Compression != nil, tc.compressed)
			}
			if h.Compression != nil && h.Compression.ServerNoContextTakeover == tc.takeover {
				t.Fatalf("server_no_context_takeover %v, want %v", h.Compression.ServerNoContextTakeover, !tc.takeover)
			}
		})
	}
}

// -access-log (or "access_log": true) writes a line per answered request to the server's
// log output, in its format, at Info even when -log-level keeps the server's own lines
// at error: the 426's refusal line (debug) stays out, its access line does not.
func TestAccessLogGoesToTheServersOutput(t *testing.T) {
	for _, tc := range []struct{ name, file, flag string }{
		{"flag", `{}`, "-access-log"},
		{"config file", `{"access_log": true}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"-config", writeConfig(t, tc.file), "-log-level", "error"}
			if tc.flag != "" {
				args = append(args, tc.flag)
			}
			cfg, err := parseServeArgs(args)
			if err != nil {
				t.Fatal(err)
			}
			// A file, as standard error may be: written from the loops, read when they are done.
			out, err := os.CreateTemp(t.TempDir(), "log")
			if err != nil {
				t.Fatal(err)
			}
			cfg.logTo = out
			srv := serveConfigured(t, cfg)
			var remote string
			for _, path := range []string{"/", "/echo"} {
				c, err := net.Dial("tcp", srv.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				_ = c.SetDeadline(time.Now().Add(time.Minute)) // only a hang meets it
				_, _ = c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
				if _, err := io.ReadAll(c); err != nil { // to the close: the line is written by then
					t.Fatal(err)
				}
				remote = c.LocalAddr().String()
				_ = c.Close()
			}
			wants := []string{
				"level=INFO msg=access proto=HTTP/1.1 method=GET target=/ status=200 bytes=" + strconv.Itoa(len(rootText)) + " duration_us=",
				"level=INFO msg=access proto=HTTP/1.1 method=GET target=/echo status=426 ",
				"remote=" + remote + "\n",
			}
			// The lines leave through asyncLog's goroutine: wait for them (the deadline
			// only guards against a hang).
			var log string
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				b, err := os.ReadFile(out.Name())
				if err != nil {
					t.Fatal(err)
				}
				log = string(b)
				if containsAll(log, wants) || time.Now().After(deadline) {
					break
				}
			}
			for _, want := range wants {
				if !strings.Contains(log, want) {
					t.Errorf("the log lacks %q:\n%s", want, log)
				}
			}
			if strings.Contains(log, "request refused") {
				t.Errorf("-log-level error let a debug line through:\n%s", log)
			}
		})
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
