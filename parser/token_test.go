package parser

import (
	"strings"
	"testing"
)

func parseOK(t *testing.T, in []byte) *Request {
	t.Helper()
	var p Parser
	req := new(Request)
	if _, err := p.Parse(in, req); err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	return req
}

func TestTokens(t *testing.T) {
	cases := []struct {
		name string
		head string
		id   HeaderID
		want []string
	}{
		{"list split over lines is one list (RFC 9110 §5.3)", "Connection: keep-alive\nConnection: Upgrade\n", HeaderConnection, []string{"keep-alive", "Upgrade"}},
		{"empty elements and OWS skipped (RFC 9110 §5.6.1)", "Connection: , ,a ,\t, b,,\n", HeaderConnection, []string{"a", "b"}},
		{"only empty elements yield nothing (RFC 9110 §5.6.1)", "Connection: ,  ,\n", HeaderConnection, nil},
		{"protocol list with versions (RFC 9110 §7.8)", "Upgrade: foo, bar/2\n", HeaderUpgrade, []string{"foo", "bar/2"}},
		{"extension parameters stay with their element (RFC 6455 §9.1)", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-webkit-deflate-frame\n", HeaderSecWebSocketExtensions, []string{"permessage-deflate; client_max_window_bits", "x-webkit-deflate-frame"}},
		{"comma inside quoted-string does not split (RFC 9110 §5.6.4)", "Sec-WebSocket-Extensions: foo; a=\"x,y\", bar; b=\"\\\",\"\n", HeaderSecWebSocketExtensions, []string{"foo; a=\"x,y\"", "bar; b=\"\\\",\""}},
		{"other headers between lines of the list are skipped", "Upgrade: a\nX-Other: z\nupgrade: b, c\n", HeaderUpgrade, []string{"a", "b", "c"}},
		{"absent header yields nothing", "X: y\n", HeaderUpgrade, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := parseOK(t, crlf("GET / HTTP/1.1\nHost: h\n"+tc.head+"\n"))
			var got []string
			it := req.Tokens(tc.id)
			for it.Next() {
				got = append(got, string(it.Token()))
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Fatalf("tokens = %q, want %q", got, tc.want)
			}
			if it.Next() {
				t.Fatal("Next after the end returned true")
			}
		})
	}
}

func TestHasToken(t *testing.T) {
	req := parseOK(t, crlf("GET / HTTP/1.1\nHost: h\nConnection: keep-alive\nConnection: UPGRADE\nUpgrade: foo, WebSocket\n\n"))
	cases := []struct {
		name  string
		id    HeaderID
		token string
		want  bool
	}{
		{"token on a later line found (RFC 9110 §5.3)", HeaderConnection, "upgrade", true},
		{"case-insensitive match (RFC 9110 §7.6.1)", HeaderConnection, "Keep-Alive", true},
		{"upgrade protocol case-insensitive (RFC 9110 §7.8)", HeaderUpgrade, "websocket", true},
		{"absent token", HeaderConnection, "close", false},
		{"prefix is not a match", HeaderUpgrade, "web", false},
		{"absent header", HeaderExpect, "100-continue", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := req.HasToken(tc.id, tc.token); got != tc.want {
				t.Fatalf("HasToken(%v, %q) = %v, want %v", tc.id, tc.token, got, tc.want)
			}
		})
	}
	if !req.ConnUpgrade || !req.KeepAlive {
		t.Errorf("ConnUpgrade=%v KeepAlive=%v, want both true", req.ConnUpgrade, req.KeepAlive)
	}
	if allocs := testing.AllocsPerRun(100, func() { req.HasToken(HeaderUpgrade, "websocket") }); allocs != 0 {
		t.Errorf("HasToken allocates %.1f times", allocs)
	}
}

func TestTokensOf(t *testing.T) {
	it := TokensOf([]byte(" a, ,b;q=1 "))
	var got []string
	for it.Next() {
		got = append(got, string(it.Token()))
	}
	if strings.Join(got, "|") != "a|b;q=1" {
		t.Fatalf("got %q", got)
	}
}

func TestSplitProtocol(t *testing.T) {
	cases := []struct {
		name, in, proto, version string
	}{
		{"name and version (RFC 9110 §7.8)", "HTTP/2.0", "HTTP", "2.0"},
		{"name only (RFC 9110 §7.8)", "websocket", "websocket", ""},
		{"version split at the first slash", "a/b/c", "a", "b/c"},
		{"empty version after slash", "h2c/", "h2c", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name, version := SplitProtocol([]byte(tc.in))
			if string(name) != tc.proto || string(version) != tc.version {
				t.Fatalf("SplitProtocol(%q) = (%q, %q), want (%q, %q)", tc.in, name, version, tc.proto, tc.version)
			}
		})
	}
}

func TestEqualFold(t *testing.T) {
	cases := []struct {
		name string
		b, s string
		want bool
	}{
		{"same case", "upgrade", "upgrade", true},
		{"mixed case (RFC 9110 §5.6.2 tokens are case-insensitive)", "UpGrAdE", "upgrade", true},
		{"different length", "upgrades", "upgrade", false},
		{"non-letters are not folded", "a-b", "a_b", false},
		{"only ASCII letters fold: '@' is not '`'", "@", "`", false},
		{"non-ASCII compared exactly", "\xc3\xa9", "\xc3\x89", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := EqualFold([]byte(tc.b), tc.s); got != tc.want {
				t.Fatalf("EqualFold(%q, %q) = %v", tc.b, tc.s, got)
			}
		})
	}
}

// Every known header is recognised in any case, and names that merely look
// alike are not.
func TestHeaderID(t *testing.T) {
	for id := HeaderID(1); id < numHeaderIDs; id++ {
		name := id.String()
		for _, n := range []string{name, strings.ToLower(name), strings.ToUpper(name)} {
			if got := headerID([]byte(n)); got != id {
				t.Errorf("headerID(%q) = %v, want %v", n, got, id)
			}
		}
		// Same length, one character changed.
		alt := []byte(strings.ToLower(name))
		alt[len(alt)-1] ^= 0x01
		if got := headerID(alt); got != HeaderOther {
			t.Errorf("headerID(%q) = %v, want HeaderOther", alt, got)
		}
	}
	for _, n := range []string{"", "Hos", "Hosts", "X-Host", "Content-Lengths", "Content_Length"} {
		if got := headerID([]byte(n)); got != HeaderOther {
			t.Errorf("headerID(%q) = %v, want HeaderOther", n, got)
		}
	}
}
