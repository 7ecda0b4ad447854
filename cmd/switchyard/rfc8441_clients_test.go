package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/cmd/internal/probe"
)

// h2Python is the Python that Debian's python3-h2 installs for (/usr/bin/python3), or
// the first python3 that imports h2. None fails the test: make tools installs it.
func h2Python(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		if exec.Command(p, "-c", "import h2.connection").Run() == nil {
			return p
		}
	}
	t.Fatalf("no python3 imports h2 (tried %v): make tools installs it (apt-get install python3-h2)", candidates)
	return ""
}

// rfc8441Client is a WebSocket-over-HTTP/2 client the project did not write, and the
// lines its script prints when every check passed.
type rfc8441Client struct {
	name string
	argv func(t *testing.T) []string
	want []string
}

var rfc8441Clients = []rfc8441Client{
	{"python-h2", func(t *testing.T) []string { return []string{h2Python(t), "testdata/h2_ws_echo.py"} },
		[]string{"enable connect protocol ok", "extended connect ok", "text echo ok binary echo ok interleaved on two streams ok",
			"ping pong ok", "clean close ok", "second websocket ok after the first closed", "connection still serves GET / ok", "refused connect to / status 4"}},
	{"node-http2", func(t *testing.T) []string { return []string{lookTool(t, "node"), "testdata/h2_ws_echo.mjs"} },
		[]string{"enable connect protocol ok", "extended connect ok", "text echo ok", "binary echo ok", "clean close ok",
			"connection still serves GET / ok", "refused connect to / status 4"}},
}

var deflateOverH2 = regexp.MustCompile(`deflate negotiated: permessage-deflate.* compressed echoes [1-9]`)

// WebSocket over HTTP/2 (RFC 8441) with Python's h2 library and Node's http2 module,
// over cleartext with prior knowledge and over TLS with ALPN h2: each first against the
// control server (Go's net/http with extended CONNECT on), which shows the script itself
// is right, then against `switchyard serve` and its /echo route. Each script checks the
// server's SETTINGS_ENABLE_CONNECT_PROTOCOL, the 200 to extended CONNECT, masked frames
// echoed, the close handshake (1000 and the stream's END_STREAM) and that the HTTP/2
// connection goes on serving (testdata/h2_ws_echo.py, testdata/h2_ws_echo.mjs); the
// Python one also runs two WebSockets at once, one with permessage-deflate, and reads the
// refusal of extended CONNECT to a path without WebSocket.
func TestRFC8441Clients(t *testing.T) {
	ctlPlain, ctlTLS := startControl8441(t)
	plain, secure, _, _ := startServeBinary(t, "-addr", "127.0.0.1:0", "-tls-addr", "127.0.0.1:0", "-tls-self-signed")
	targets := []struct{ server, mode, addr string }{
		{"control", "h2c", ctlPlain}, {"control", "tls", ctlTLS},
		{"switchyard", "h2c", plain}, {"switchyard", "tls", secure},
	}
	for _, c := range rfc8441Clients {
		for _, tg := range targets {
			t.Run(c.name+"/"+tg.server+"/"+tg.mode, func(t *testing.T) {
				out := runClient8441(t, c.argv(t), tg.addr, tg.mode)
				for _, w := range c.want {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q", w)
					}
				}
				if tg.mode == "tls" && !strings.Contains(out, "alpn h2") {
					t.Errorf("output lacks ALPN h2")
				}
				// switchyard's /echo offers permessage-deflate (RFC 7692) over HTTP/2 as over
				// HTTP/1.1, and compresses the 1 KiB echo; the control server negotiates none.
				if c.name == "python-h2" && tg.server == "switchyard" && !deflateOverH2.MatchString(out) {
					t.Errorf("output lacks permessage-deflate negotiated with a compressed echo")
				}
			})
		}
	}
}

// `switchyard probe` tries WebSocket over HTTP/2 (extended CONNECT) on ws:// (h2c, prior
// knowledge) and wss:// (ALPN h2) URLs: against the control server and `switchyard serve`
// it reports the setting, the 200, the echo and the clean close (websocket_over_h2 and
// the h2-websocket-ok finding).
func TestRFC8441Probe(t *testing.T) {
	bin := os.Getenv("SWITCHYARD_BIN")
	ctlPlain, ctlTLS := startControl8441(t)
	plain, secure, _, _ := startServeBinary(t, "-addr", "127.0.0.1:0", "-tls-addr", "127.0.0.1:0", "-tls-self-signed")
	for _, tg := range []struct{ server, url string }{
		{"control", "ws://" + ctlPlain + "/echo"}, {"control", "wss://" + ctlTLS + "/echo"},
		{"switchyard", "ws://" + plain + "/echo"}, {"switchyard", "wss://" + secure + "/echo"},
	} {
		t.Run(tg.server+" "+tg.url[:strings.Index(tg.url, ":")], func(t *testing.T) {
			out, err := exec.Command(bin, "probe", "-insecure", "-timeout", "10s", "-json", tg.url).Output()
			if err != nil {
				t.Fatalf("probe -json %s: %v\n%s", tg.url, err, out)
			}
			var r probe.Report
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("probe -json: %v\n%s", err, out)
			}
			p := r.Probe("h2-websocket")
			if p == nil || p.H2WebSocket == nil {
				t.Fatalf("no h2-websocket probe in the report:\n%s", out)
			}
			h := p.H2WebSocket
			if !r.WebSocketOverH2 || p.Verdict.Code != "supported" || !h.ConnectProtocol || h.Status != "200" ||
				!h.Pong || !h.Echo || h.CloseCode != 1000 || !h.StreamEnded || !r.HasFinding("h2-websocket-ok") {
				t.Errorf("verdict %+v\nresult %+v\nfindings %+v", p.Verdict, h, r.Findings)
			}
			if strings.HasPrefix(tg.url, "wss") && h.ALPN != "h2" {
				t.Errorf("ALPN %q, want h2", h.ALPN)
			}
			text, err := exec.Command(bin, "probe", "-insecure", "-timeout", "10s", tg.url).Output()
			if err != nil {
				t.Fatalf("probe: %v\n%s", err, text)
			}
			flat := strings.Join(strings.Fields(string(text)), " ")
			for _, w := range []string{"WebSocket over HTTP/2 (extended CONNECT, RFC 8441)", "ENABLE_CONNECT_PROTOCOL=true",
				"pong true, echo true, close 1000, END_STREAM true", "[h2-websocket-ok]"} {
				if !strings.Contains(flat, w) {
					t.Errorf("probe's text report lacks %q:\n%s", w, text)
				}
			}
		})
	}
}
