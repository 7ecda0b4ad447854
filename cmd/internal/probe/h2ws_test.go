package probe

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/frame/ws"
)

// h2wsScript is how a scripted HTTP/2 server answers the RFC 8441 probe.
type h2wsScript struct {
	advertise bool   // SETTINGS_ENABLE_CONNECT_PROTOCOL=1 in its SETTINGS
	status    byte   // HPACK static index of the :status it answers (0x88 200, 0x8d 404)
	body      string // DATA after a refusal
	echo      bool   // echo text messages (pongs and the close are always answered)
	endWith   string // after the close: "end" (END_STREAM), "rst" (RST_STREAM CANCEL), "none"
}

// startH2WSScript serves each connection of the h2-websocket probe as script says; other
// probes' connections get nothing useful (they are not under test here).
func startH2WSScript(t *testing.T, script h2wsScript) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveH2WSScript(c, script)
		}
	}()
	return ln.Addr().String()
}

func serveH2WSScript(c net.Conn, script h2wsScript) {
	defer c.Close()
	br := bufio.NewReader(c)
	pre := make([]byte, len(h2.ClientPreface))
	if _, err := io.ReadFull(br, pre); err != nil || string(pre) != h2.ClientPreface {
		return // an HTTP/1.1 probe: close
	}
	settings := []h2.Setting{{ID: h2.SettingMaxConcurrentStreams, Val: 10}}
	if script.advertise {
		settings = append(settings, h2.Setting{ID: h2.SettingEnableConnectProtocol, Val: 1})
	}
	_, _ = c.Write(h2.AppendSettings(nil, settings...))
	var wsIn []byte
	for {
		var hdr [h2.FrameHeaderLen]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		fh, _ := h2.DecodeFrameHeader(hdr[:])
		buf := make([]byte, h2.FrameHeaderLen+int(fh.Length))
		copy(buf, hdr[:])
		if _, err := io.ReadFull(br, buf[h2.FrameHeaderLen:]); err != nil {
			return
		}
		f, _, err := h2.ReadFrame(buf, h2.MinMaxFrameSize)
		if err != nil {
			return
		}
		switch f.Type {
		case h2.FrameHeaders:
			if f.EndStream() { // the prior-knowledge probe's GET, not an extended CONNECT
				_, _ = c.Write(h2.AppendHeaders(nil, f.StreamID, []byte{0x88}, true, h2.MinMaxFrameSize))
				continue
			}
			if script.status != 0x88 {
				out := h2.AppendHeaders(nil, f.StreamID, []byte{script.status}, false, h2.MinMaxFrameSize)
				_, _ = c.Write(h2.AppendData(out, f.StreamID, []byte(script.body), true))
				continue
			}
			_, _ = c.Write(h2.AppendHeaders(nil, f.StreamID, []byte{0x88}, false, h2.MinMaxFrameSize))
		case h2.FrameData:
			wsIn = append(wsIn, f.Data()...)
			for {
				h, n, err := ws.DecodeHeader(wsIn, ws.ServerRules(false))
				if err != nil || int64(len(wsIn)-n) < h.Length {
					break
				}
				payload := append([]byte(nil), wsIn[n:n+int(h.Length)]...)
				ws.Unmask(payload, h.Mask, 0)
				wsIn = wsIn[n+int(h.Length):]
				var out []byte
				switch h.OpCode {
				case ws.OpPing:
					out = ws.AppendFrame(nil, true, ws.OpPong, false, payload)
				case ws.OpText:
					if script.echo {
						out = ws.AppendFrame(nil, true, ws.OpText, false, payload)
					}
				case ws.OpClose:
					out = ws.AppendFrame(nil, true, ws.OpClose, false, payload)
				}
				if out != nil {
					_, _ = c.Write(h2.AppendData(nil, f.StreamID, out, false))
				}
				if h.OpCode == ws.OpClose {
					switch script.endWith {
					case "end":
						_, _ = c.Write(h2.AppendData(nil, f.StreamID, nil, true))
					case "rst":
						_, _ = c.Write(h2.AppendRSTStream(nil, f.StreamID, h2.ErrCodeCancel))
					}
				}
			}
		}
	}
}

// The RFC 8441 probe against scripted servers, one per outcome it must tell apart.
func TestH2WebSocketProbeVerdicts(t *testing.T) {
	cases := []struct {
		name    string
		script  h2wsScript
		code    string
		finding string
		check   func(t *testing.T, h *H2WSResult)
	}{
		{"not advertised: no extended CONNECT sent (RFC 8441 §3)", h2wsScript{}, "not-advertised", "h2-websocket-not-advertised",
			func(t *testing.T, h *H2WSResult) {
				if h.ConnectProtocol || h.Status != "" {
					t.Errorf("setting %v, status %q: want neither", h.ConnectProtocol, h.Status)
				}
			}},
		{"advertised but refused, body shown", h2wsScript{advertise: true, status: 0x8d, body: "no WebSocket endpoint here\nmore"}, "refused", "h2-websocket-advertised",
			func(t *testing.T, h *H2WSResult) {
				if h.Status != "404" || h.Body != "no WebSocket endpoint here" {
					t.Errorf("status %q body %q", h.Status, h.Body)
				}
			}},
		{"works, with echo and END_STREAM", h2wsScript{advertise: true, status: 0x88, echo: true, endWith: "end"}, "supported", "h2-websocket-ok",
			func(t *testing.T, h *H2WSResult) {
				if !h.Pong || !h.Echo || h.CloseCode != 1000 || !h.StreamEnded {
					t.Errorf("%+v", h)
				}
			}},
		{"works without echo (not an echo endpoint)", h2wsScript{advertise: true, status: 0x88, endWith: "end"}, "supported", "h2-websocket-ok",
			func(t *testing.T, h *H2WSResult) {
				if !h.Pong || h.Echo || !h.StreamEnded {
					t.Errorf("%+v", h)
				}
			}},
		{"stream reset after the close: unclean (RFC 8441 §5)", h2wsScript{advertise: true, status: 0x88, echo: true, endWith: "rst"}, "unclean-close", "h2-websocket-broken",
			func(t *testing.T, h *H2WSResult) {
				if h.Reset != "CANCEL" || h.StreamEnded {
					t.Errorf("%+v", h)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, "http://"+startH2WSScript(t, c.script)+"/echo", Options{})
			defer dump(t, &r)
			p := r.Probe("h2-websocket")
			if p == nil || p.H2WebSocket == nil {
				t.Fatalf("no h2-websocket probe result: %+v", p)
			}
			if p.Verdict.Code != c.code {
				t.Errorf("verdict %+v, want %s", p.Verdict, c.code)
			}
			if !r.HasFinding(c.finding) {
				t.Errorf("diagnosis lacks %s: %+v", c.finding, r.Findings)
			}
			if r.WebSocketOverH2 != (c.code == "supported") {
				t.Errorf("WebSocketOverH2 = %v", r.WebSocketOverH2)
			}
			c.check(t, p.H2WebSocket)
		})
	}
}

// An HTTP/1.1-only server answers the preface with an error page: not HTTP/2, no verdict
// about RFC 8441 beyond that.
func TestH2WebSocketProbeHTTP1Only(t *testing.T) {
	r := run(t, "http://"+startHTTP1(t, nil)+"/", Options{})
	defer dump(t, &r)
	p := r.Probe("h2-websocket")
	if p.Verdict.Code != "not-supported" || r.WebSocketOverH2 {
		t.Errorf("verdict %+v, WebSocketOverH2 %v", p.Verdict, r.WebSocketOverH2)
	}
	for _, f := range r.Findings {
		if strings.HasPrefix(f.Code, "h2-websocket") {
			t.Errorf("finding %s about RFC 8441 on a server without HTTP/2", f.Code)
		}
	}
}

// switchyard in-process with HTTP/2 and the /echo route: the probe finds WebSocket over
// HTTP/2 working, the echo included.
func TestH2WebSocketProbeSwitchyard(t *testing.T) {
	r := run(t, "ws://"+startSwitchyard(t, true)+"/echo", Options{})
	defer dump(t, &r)
	p := r.Probe("h2-websocket")
	if p.Verdict.Code != "supported" || !r.WebSocketOverH2 || !p.H2WebSocket.Echo || !r.HasFinding("h2-websocket-ok") {
		t.Errorf("verdict %+v, result %+v", p.Verdict, p.H2WebSocket)
	}
	var text bytes.Buffer
	_ = r.WriteText(&text)
	if !strings.Contains(text.String(), "ENABLE_CONNECT_PROTOCOL=true") {
		t.Errorf("text report lacks the setting:\n%s", text.String())
	}
}

// A WebSocket endpoint over HTTP/1.1 that refuses extended CONNECT, though the server
// advertises it, is a warning (browsers would go there over HTTP/2 and fail); the same
// refusal on a path that is no WebSocket endpoint at all is a fact.
func TestH2WebSocketProbeRefusalWeight(t *testing.T) {
	r := Report{WebSocket: true, Probes: []Probe{{ID: "h2-websocket", H2WebSocket: &H2WSResult{SettingsReceived: true, ConnectProtocol: true, Status: "404"}}}}
	r.Probes[0].Verdict = judgeH2WS(r.Probes[0].H2WebSocket)
	r.diagnoseH2WebSocket()
	if r.Probes[0].Verdict.Level != LevelWarn || !r.HasFinding("h2-websocket-refused") {
		t.Errorf("WebSocket endpoint: verdict %+v, findings %+v", r.Probes[0].Verdict, r.Findings)
	}
	r.WebSocket, r.Findings = false, nil
	r.Probes[0].Verdict = judgeH2WS(r.Probes[0].H2WebSocket)
	r.diagnoseH2WebSocket()
	if r.Probes[0].Verdict.Level != LevelInfo || !r.HasFinding("h2-websocket-advertised") {
		t.Errorf("plain path: verdict %+v, findings %+v", r.Probes[0].Verdict, r.Findings)
	}
}
