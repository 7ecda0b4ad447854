package probe

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/switchyard-dev/switchyard/frame/h2"
)

func TestAcceptKey(t *testing.T) {
	cases := []struct{ name, key, want string }{
		// The worked example of RFC 6455 §1.3.
		{"RFC6455_1.3_example", "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		// RFC 6455 §4.2.2 step 5.4: the key is used as sent, not decoded.
		{"RFC6455_4.2.2_key_taken_verbatim", "AQIDBAUGBwgJCgsMDQ4PEC==", AcceptKey("AQIDBAUGBwgJCgsMDQ4PEC==")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := AcceptKey(tc.key); got != tc.want {
				t.Errorf("AcceptKey(%q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
	if AcceptKey("a") == AcceptKey("b") {
		t.Error("different keys give the same accept value")
	}
}

func TestNewKeyIsBase64Of16Bytes(t *testing.T) {
	// RFC 6455 §4.1 item 7: a randomly selected 16-byte value, base64-encoded.
	a, b := newKey(), newKey()
	if len(a) != 24 || !strings.HasSuffix(a, "==") || a == b {
		t.Errorf("keys %q %q: want two different 24-character base64 values of 16 bytes", a, b)
	}
}

func TestHasToken(t *testing.T) {
	cases := []struct {
		name, list, tok string
		want            bool
	}{
		{"RFC9110_7.6.1_connection_options_case_insensitive", "keep-alive, Upgrade", "upgrade", true},
		{"RFC9110_7.8_protocol_version_ignored", "websocket/13", "websocket", true},
		{"RFC9110_5.6.1_list_whitespace", " h2c ,  websocket ", "websocket", true},
		{"RFC7692_parameters_ignored", "permessage-deflate; client_max_window_bits=15", "permessage-deflate", true},
		{"substring_is_not_a_token", "upgrades", "upgrade", false},
		{"empty_list", "", "upgrade", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := hasToken(tc.list, tc.tok); got != tc.want {
				t.Errorf("hasToken(%q, %q) = %v, want %v", tc.list, tc.tok, got, tc.want)
			}
		})
	}
}

func TestBodySaysUpgradeMissing(t *testing.T) {
	// What real servers write when a handshake lacks Upgrade or Connection: upgrade; a
	// 400 saying so, for a handshake that carried them, points at a proxy.
	cases := []struct {
		name, body string
		want       bool
	}{
		{"gorilla_websocket_error_text_written_by_the_app", "websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header", true},
		{"gobwas_ws_upgrade", `handshake error: bad "Upgrade" header`, true},
		{"gobwas_ws_connection", `handshake error: bad "Connection" header`, true},
		{"switchyard_connection", "426 Upgrade Required: the request had 'Upgrade: websocket' but no Connection header, which does not list 'upgrade'", true},
		{"missing_upgrade_header_phrasing", "Missing or invalid Upgrade header", true},
		{"version_refusal_is_not_about_upgrade", "WebSocket handshake: Sec-WebSocket-Version must be 13", false},
		{"key_refusal_is_not_about_upgrade", "Sec-WebSocket-Key is missing", false},
		{"generic_400", "400 Bad Request", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := bodySaysUpgradeMissing(tc.body); got != tc.want {
				t.Errorf("bodySaysUpgradeMissing(%q) = %v, want %v", tc.body, got, tc.want)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	cases := []struct {
		name, url       string
		addr, host, uri string
		tls             bool
		usage           bool
	}{
		{name: "http_default_port_RFC9110_4.2.1", url: "http://example.com/echo", addr: "example.com:80", host: "example.com", uri: "/echo"},
		{name: "https_default_port_RFC9110_4.2.2", url: "https://example.com", addr: "example.com:443", host: "example.com", uri: "/", tls: true},
		{name: "ws_is_http_RFC6455_3", url: "ws://h:8080/a?b=c", addr: "h:8080", host: "h:8080", uri: "/a?b=c"},
		{name: "wss_is_https_RFC6455_3", url: "wss://h/x", addr: "h:443", host: "h", uri: "/x", tls: true},
		{name: "no_scheme_means_http", url: "127.0.0.1:9000/echo", addr: "127.0.0.1:9000", host: "127.0.0.1:9000", uri: "/echo"},
		{name: "ipv6_literal", url: "http://[::1]:8080/", addr: "[::1]:8080", host: "[::1]:8080", uri: "/"},
		{name: "fragment_not_sent_RFC9110_4.2.5", url: "http://h/p#frag", addr: "h:80", host: "h", uri: "/p"},
		{name: "unknown_scheme", url: "ftp://h/", usage: true},
		{name: "no_host", url: "http:///path", usage: true},
		{name: "bad_url", url: "http://h:port/", usage: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := parseTarget(tc.url)
			if tc.usage {
				if !errors.Is(err, ErrUsage) {
					t.Fatalf("parseTarget(%q) error %v, want ErrUsage", tc.url, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tg.addr != tc.addr || tg.host != tc.host || tg.uri != tc.uri || tg.tls != tc.tls {
				t.Errorf("parseTarget(%q) = %+v, want addr %s host %s uri %s tls %v", tc.url, tg, tc.addr, tc.host, tc.uri, tc.tls)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"defaults", Options{}, true},
		{"header_ok", Options{Header: []string{"Authorization: Bearer x"}}, true},
		{"header_without_colon", Options{Header: []string{"Authorization"}}, false},
		{"header_injection_RFC9112_2.2", Options{Header: []string{"X: a\r\nUpgrade: h2c"}}, false},
		{"header_name_with_space_RFC9110_5.1", Options{Header: []string{"Bad Name: v"}}, false},
		{"subprotocol_not_a_token_RFC6455_4.1", Options{Subprotocols: []string{"a b"}}, false},
		{"origin_injection", Options{Origin: "http://a\r\nX: y"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.withDefaults().validate()
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrUsage)) {
				t.Errorf("validate() = %v, want ok=%v (errors wrap ErrUsage)", err, tc.ok)
			}
		})
	}
}

func TestFirstLine(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"first_line", "one\ntwo\n", "one"},
		{"skips_blank_lines", "\r\n  \nreason here\r\nmore", "reason here"},
		{"unterminated", "only line", "only line"},
		{"control_characters_blanked", "a\x1b[31mb\n", "a [31mb"},
		{"invalid_utf8_replaced", "a\xffb\n", "a\uFFFDb"},
		{"empty", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// One byte at a time: the line must be found across reads.
			if got := firstLine(iotest.OneByteReader(strings.NewReader(tc.body))); got != tc.want {
				t.Errorf("firstLine(%q) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
	long := firstLine(strings.NewReader(strings.Repeat("x", 100000)))
	if n := len([]rune(long)); n != 501 {
		t.Errorf("an endless line gives %d runes, want 500 and an ellipsis", n)
	}
}

func TestHTTP2SettingsHeaderRoundTrips(t *testing.T) {
	// RFC 7540 §3.2.1: base64url of the SETTINGS payload, no padding; the server side's
	// decoder must accept it and see our parameters.
	v := http2SettingsHeader()
	if strings.ContainsAny(v, "=+/") {
		t.Errorf("HTTP2-Settings %q is not unpadded base64url", v)
	}
	s := h2.DefaultSettings()
	if err := h2.DecodeHTTP2SettingsHeader([]byte(v), &s); err != nil {
		t.Fatal(err)
	}
	if s.EnablePush || s.MaxConcurrentStreams != 100 {
		t.Errorf("decoded %+v, want push off and 100 streams", s)
	}
}
