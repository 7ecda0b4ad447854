package probe

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// endpointCase runs every probe against one endpoint and checks the verdicts and the
// diagnosis that endpoint earns.
type endpointCase struct {
	name     string
	url      func(t *testing.T) string
	opts     Options
	verdicts map[string]string // probe ID -> verdict code; probes not listed are not checked
	findings []string          // must be in the diagnosis
	absent   []string          // must not be
	check    func(t *testing.T, r *Report)
}

func TestRunEndpoints(t *testing.T) {
	cases := []endpointCase{
		{
			name: "switchyard_echo_websocket_ok_RFC6455_4.2.2",
			url:  func(t *testing.T) string { return "http://" + startSwitchyard(t, false) + "/echo" },
			verdicts: map[string]string{
				"get": "upgrade-required", "ws": "upgraded", "ws-no-connection-upgrade": "not-upgraded",
				"ws-version-8": "version-mismatch-detected", "ws-subprotocol": "none-selected",
				"ws-deflate": "declined", "h2c": "not-supported", "h2": "not-supported",
			},
			findings: []string{"websocket-ok", "upgrade-only", "h2c-not-supported", "h2-not-supported"},
			absent:   []string{"http1-only", "hop-by-hop-stripped", "no-response"},
			check: func(t *testing.T, r *Report) {
				if !r.WebSocket || r.H2C || r.H2PriorKnowledge {
					t.Errorf("flags websocket=%v h2c=%v h2=%v, want true false false", r.WebSocket, r.H2C, r.H2PriorKnowledge)
				}
				ws := r.Probe("ws")
				if ws.Response.AcceptCheck != "valid" || !strings.Contains(ws.AfterUpgrade, "close 1000") {
					t.Errorf("ws: accept %q, after upgrade %q", ws.Response.AcceptCheck, ws.AfterUpgrade)
				}
				// The stripped-Connection case gets 426 and switchyard's reason (RFC 9110 §7.8).
				nc := r.Probe("ws-no-connection-upgrade").Response
				if nc.Status != 426 || !strings.Contains(nc.Body, "does not list 'upgrade'") {
					t.Errorf("no-connection-upgrade: %d %q, want 426 naming the missing token", nc.Status, nc.Body)
				}
				// Version mismatch: 426 and the versions spoken (RFC 6455 §4.4).
				v8 := r.Probe("ws-version-8").Response
				if v8.Status != 426 || v8.WSVersion != "13" {
					t.Errorf("version 8: %d Sec-WebSocket-Version %q, want 426 and 13", v8.Status, v8.WSVersion)
				}
			},
		},
		{
			name: "switchyard_subprotocol_and_permessage_deflate_RFC6455_1.9_RFC7692_7",
			url:  func(t *testing.T) string { return "http://" + startSwitchyard(t, false) + "/chat" },
			verdicts: map[string]string{
				"ws": "upgraded", "ws-subprotocol": "selected", "ws-deflate": "negotiated",
			},
			findings: []string{"websocket-ok"},
			check: func(t *testing.T, r *Report) {
				if got := r.Probe("ws-subprotocol").Response.WSProtocol; got != "superchat" {
					t.Errorf("selected %q, want superchat", got)
				}
				if f := r.Finding("websocket-ok"); !strings.Contains(f.Text, "superchat") || !strings.Contains(f.Text, "permessage-deflate negotiated") {
					t.Errorf("websocket-ok finding does not report the offers: %s", f.Text)
				}
			},
		},
		{
			name:     "switchyard_origin_refused_RFC6455_10.2",
			url:      func(t *testing.T) string { return "ws://" + startSwitchyard(t, false) + "/strict" },
			opts:     Options{Origin: "http://evil.example"},
			verdicts: map[string]string{"ws": "forbidden"},
			findings: []string{"forbidden"},
			absent:   []string{"websocket-ok", "http1-only", "hop-by-hop-stripped"},
		},
		{
			name: "switchyard_h2c_and_prior_knowledge_RFC7540_3.2_RFC9113_3.3",
			url:  func(t *testing.T) string { return "http://" + startSwitchyard(t, true) + "/" },
			verdicts: map[string]string{
				"get": "ok", "ws": "ignored", "h2c": "upgraded", "h2": "supported",
			},
			findings: []string{"no-websocket-here", "h2c-supported", "h2-supported"},
			absent:   []string{"http1-only", "upgrade-ignored"},
			check: func(t *testing.T, r *Report) {
				for _, id := range []string{"h2c", "h2"} {
					h := r.Probe(id).H2
					if h == nil || !h.SettingsReceived || h.Status != "200" || h.Frames[0] != "SETTINGS" {
						t.Errorf("%s: %+v, want SETTINGS first and :status 200", id, h)
					}
				}
			},
		},
		{
			name: "net_http_speaks_only_HTTP1.1",
			url:  func(t *testing.T) string { return "http://" + startHTTP1(t, nil) + "/" },
			verdicts: map[string]string{
				"get": "ok", "ws": "ignored", "ws-no-connection-upgrade": "not-upgraded", "ws-version-8": "ignored",
				"ws-subprotocol": "ignored", "ws-deflate": "ignored", "h2c": "not-supported", "h2": "not-supported",
			},
			findings: []string{"http1-only", "upgrade-ignored", "h2c-not-supported", "h2-not-supported"},
			absent:   []string{"websocket-ok", "hop-by-hop-stripped"},
		},
		{
			name: "proxy_stripping_hop_by_hop_in_front_of_switchyard_RFC9110_7.6.1",
			url: func(t *testing.T) string {
				return "http://" + startStrippingProxy(t, startSwitchyard(t, false)) + "/echo"
			},
			verdicts: map[string]string{
				// The version never reaches the WebSocket upgrader: the proxy took Upgrade away.
				"ws": "upgrade-not-seen", "ws-version-8": "upgrade-not-seen",
			},
			findings: []string{"hop-by-hop-stripped"},
			absent:   []string{"websocket-ok", "http1-only"},
			check: func(t *testing.T, r *Report) {
				f := r.Finding("hop-by-hop-stripped")
				for _, w := range []string{"proxy", "hop-by-hop", "exactly as the handshake without 'upgrade'"} {
					if !strings.Contains(f.Text, w) {
						t.Errorf("diagnosis lacks %q: %s", w, f.Text)
					}
				}
				if r.WebSocket {
					t.Error("WebSocket reported working behind a stripping proxy")
				}
			},
		},
		{
			name: "gobwas_ws_RFC6455_server",
			url:  func(t *testing.T) string { return "http://" + startHTTP1(t, gobwasHandler) + "/" },
			verdicts: map[string]string{
				"ws": "upgraded", "ws-no-connection-upgrade": "not-upgraded", "ws-version-8": "version-mismatch-detected",
				"ws-subprotocol": "none-selected", "ws-deflate": "declined",
			},
			findings: []string{"websocket-ok"},
			absent:   []string{"http1-only", "version-not-advertised"},
			check: func(t *testing.T, r *Report) {
				if !strings.Contains(r.Probe("ws").AfterUpgrade, "close 1000") {
					t.Errorf("after upgrade: %q", r.Probe("ws").AfterUpgrade)
				}
			},
		},
		{
			name: "proxy_stripping_in_front_of_gobwas_400_names_the_header",
			url: func(t *testing.T) string {
				return "http://" + startStrippingProxy(t, startHTTP1(t, gobwasHandler)) + "/"
			},
			verdicts: map[string]string{"ws": "upgrade-not-seen"},
			findings: []string{"hop-by-hop-stripped"},
			absent:   []string{"http1-only"},
		},
		{
			name: "gorilla_style_400_without_reason",
			url:  func(t *testing.T) string { return "http://" + startHTTP1(t, gorillaLikeHandler) + "/" },
			verdicts: map[string]string{
				"get": "websocket-endpoint", "ws": "upgraded", "ws-no-connection-upgrade": "not-upgraded",
				"ws-version-8": "version-mismatch-detected",
			},
			findings: []string{"websocket-ok", "upgrade-only"},
			absent:   []string{"http1-only", "hop-by-hop-stripped"},
		},
		{
			name: "proxy_stripping_in_front_of_gorilla_style_400_same_answer_as_without_connection_upgrade",
			url: func(t *testing.T) string {
				return "http://" + startStrippingProxy(t, startHTTP1(t, gorillaLikeHandler)) + "/"
			},
			verdicts: map[string]string{"ws": "upgrade-not-seen"},
			findings: []string{"hop-by-hop-stripped"},
			absent:   []string{"http1-only", "websocket-ok"},
		},
		{
			name: "server_requires_a_subprotocol_RFC6455_4.2.2",
			url: func(t *testing.T) string {
				return "http://" + startHTTP1(t, func(w http.ResponseWriter, r *http.Request) {
					if !strings.Contains(r.Header.Get("Sec-WebSocket-Protocol"), "chat") {
						r.Header.Set("Connection", "close") // refused as gorilla would: 400 "Bad Request"
					}
					gorillaLikeHandler(w, r)
				}) + "/"
			},
			opts:     Options{Subprotocols: []string{"chat"}},
			verdicts: map[string]string{"ws": "refused", "ws-subprotocol": "none-selected"},
			findings: []string{"websocket-needs-offer"},
			absent:   []string{"hop-by-hop-stripped", "websocket-ok", "http1-only"},
		},
		{
			name: "version_mismatch_RFC6455_4.4",
			url: func(t *testing.T) string {
				return "http://" + startHTTP1(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Sec-WebSocket-Version", "7, 8")
					w.WriteHeader(http.StatusUpgradeRequired)
					_, _ = io.WriteString(w, "unsupported version\n")
				}) + "/"
			},
			verdicts: map[string]string{"ws": "version-mismatch"},
			findings: []string{"version-mismatch"},
			absent:   []string{"http1-only", "hop-by-hop-stripped"},
		},
		{
			name: "requires_another_protocol_RFC9110_15.5.22",
			url: func(t *testing.T) string {
				return "http://" + startHTTP1(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Upgrade", "TLS/1.2, HTTP/1.1")
					w.Header().Set("Connection", "Upgrade")
					w.WriteHeader(http.StatusUpgradeRequired)
				}) + "/"
			},
			verdicts: map[string]string{"get": "upgrade-required", "ws": "requires-other-protocol"},
			findings: []string{"requires-other-protocol"},
			absent:   []string{"http1-only", "upgrade-only", "hop-by-hop-stripped"},
		},
		{
			name: "bad_accept_fails_the_handshake_RFC6455_4.1",
			url: func(t *testing.T) string {
				return "http://" + scriptedServer(t, func(string) string {
					return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
						"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
				}) + "/"
			},
			verdicts: map[string]string{"ws": "bad-101"},
			findings: []string{"websocket-broken"},
			absent:   []string{"websocket-ok", "http1-only"},
		},
		{
			name: "x_net_h2c_handler_RFC7540_3.2",
			url: func(t *testing.T) string {
				return "http://" + startHTTP1(t, h2c.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusNoContent)
				}), &http2.Server{}).ServeHTTP) + "/"
			},
			verdicts: map[string]string{"h2c": "upgraded", "h2": "supported"},
			findings: []string{"h2c-supported", "h2-supported"},
			absent:   []string{"http1-only"},
			check: func(t *testing.T, r *Report) {
				if s := r.Probe("h2c").H2.Status; s != "204" {
					t.Errorf("h2c stream 1 :status %q, want 204", s)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.url(t), tc.opts)
			defer dump(t, &r)
			got := verdictCodes(&r)
			for id, want := range tc.verdicts {
				if got[id] != want {
					t.Errorf("probe %s: verdict %q, want %q (%s)", id, got[id], want, r.Probe(id).Verdict.Text)
				}
			}
			for _, f := range tc.findings {
				if !r.HasFinding(f) {
					t.Errorf("diagnosis lacks %q", f)
				}
			}
			for _, f := range tc.absent {
				if r.HasFinding(f) {
					t.Errorf("diagnosis has %q: %s", f, r.Finding(f).Text)
				}
			}
			if tc.check != nil {
				tc.check(t, &r)
			}
			if len(r.Findings) == 0 || slices.ContainsFunc(r.Probes, func(p Probe) bool { return p.Verdict.Code == "" }) {
				t.Error("a probe has no verdict or the diagnosis is empty")
			}
		})
	}
}
