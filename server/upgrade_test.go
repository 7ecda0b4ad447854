package server

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

func upgradeServer(t *testing.T) *Server {
	return startServer(t, Config{}, func(s *Server) {
		s.Route("/required", Route{RequireUpgrade: true, Upgraders: []Upgrader{testUpgrader{"foo"}, testUpgrader{"bar/2"}}})
		s.Route("/optional", Route{HTTP: okHandler("plain"), Upgraders: []Upgrader{testUpgrader{"foo"}, testUpgrader{"bar/2"}}})
	})
}

// RFC 9110 §15.5.22: a route that requires an upgrade answers a plain request with 426,
// Upgrade listing what it accepts and Connection: Upgrade; the body names the cause.
func Test426NamesTheMissingHeader(t *testing.T) {
	s := upgradeServer(t)
	cases := []struct {
		name, req, bodyHas string
	}{
		{"no Upgrade header at all", "GET /required HTTP/1.1\r\nHost: x\r\n\r\n", "had no Upgrade header"},
		{"Upgrade without upgrade in Connection (hop-by-hop headers stripped)",
			"GET /required HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: keep-alive\r\n\r\n", "'Connection: keep-alive', which does not list 'upgrade'"},
		{"Upgrade without any Connection header",
			"GET /required HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\n\r\n", "no Connection header"},
		{"Upgrade over HTTP/1.0 (RFC 9110 §7.8)",
			"GET /required HTTP/1.0\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n", "over HTTP/1.0"},
		{"only protocols the route does not speak",
			"GET /required HTTP/1.1\r\nHost: x\r\nUpgrade: websocket, bar/3\r\nConnection: upgrade\r\n\r\n", "speaks foo, bar/2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			write(t, c, tc.req)
			var raw strings.Builder // net/http drops a Connection header that says close
			resp, body := readResponse(t, bufio.NewReader(io.TeeReader(c, &raw)), "GET")
			if resp.StatusCode != 426 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Upgrade"); got != "foo, bar/2" {
				t.Fatalf("Upgrade: %q", got)
			}
			if !strings.Contains(raw.String(), "\r\nConnection: Upgrade") {
				t.Fatalf("426 without Connection: Upgrade:\n%s", raw.String())
			}
			if !strings.Contains(body, tc.bodyHas) {
				t.Fatalf("body %q should contain %q", body, tc.bodyHas)
			}
		})
	}
}

// RFC 9110 §7.8: the server picks the first protocol in the client's order that it takes;
// Connection and Upgrade tokens are case-insensitive and may span several lines.
func TestUpgradePicksClientsFirstAcceptedProtocol(t *testing.T) {
	s := upgradeServer(t)
	cases := []struct {
		name, upgrade, want string
	}{
		{"first listed wins", "Upgrade: foo, bar/2\r\n", "foo"},
		{"client order, not server order", "Upgrade: bar/2, foo\r\n", "bar/2"},
		{"unknown protocols are skipped", "Upgrade: baz, bar/3, BAR/2\r\n", "bar/2"},
		{"list across header lines", "Upgrade: baz\r\nUpgrade: Foo/1\r\n", "foo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			br := bufio.NewReader(c)
			write(t, c, "GET /required HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n"+tc.upgrade+"\r\n")
			resp, _ := readResponse(t, br, "GET")
			if resp.StatusCode != 101 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Upgrade"); got != tc.want {
				t.Fatalf("Upgrade: %q, want %q", got, tc.want)
			}
			if got := resp.Header.Get("X-Protocol"); got != tc.want {
				t.Fatalf("the upgrader's headers were not sent: %q", got)
			}
			started := "[" + tc.want + " started]"
			if got := readN(t, br, len(started)); got != started {
				t.Fatalf("got %q", got)
			}
		})
	}
}

// The next byte after the 101 belongs to the new protocol, including bytes the client sent
// in the same write as its upgrade request.
func TestBytesBehindUpgradeRequestReachNewProtocol(t *testing.T) {
	s := upgradeServer(t)
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, "GET /required HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\nGET / HTTP/1.1\r\n")
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	want := "[foo started]foo:GET / HTTP/1.1\r\n"
	if got := readN(t, br, len(want)); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	write(t, c, "more")
	if got := readN(t, br, len("foo:more")); got != "foo:more" {
		t.Fatalf("got %q", got)
	}
	write(t, c, "QUIT")
	if got := readN(t, br, 3); got != "bye" {
		t.Fatalf("got %q", got)
	}
	expectClosed(t, br)
}

func TestUpgradeNobodyTakesIsServedOverHTTP1(t *testing.T) {
	s := upgradeServer(t)
	cases := []struct{ name, req string }{
		{"unsupported protocol", "GET /optional HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"},
		{"upgrader declines", "GET /optional HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: upgrade\r\nX-Decline: yes\r\n\r\n"},
		{"Connection lacks upgrade", "GET /optional HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\n\r\n"},
		{"HTTP/1.0 upgrade is ignored", "GET /optional HTTP/1.0\r\nUpgrade: foo\r\nConnection: upgrade, keep-alive\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			br := bufio.NewReader(c)
			write(t, c, tc.req)
			resp, body := readResponse(t, br, "GET")
			if resp.StatusCode != 200 || body != "plain" {
				t.Fatalf("got %d %q", resp.StatusCode, body)
			}
			write(t, c, "GET /optional HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 200 {
				t.Fatalf("connection should still speak HTTP/1.1, got %d", resp.StatusCode)
			}
		})
	}
}

func TestUpgraderRejectionIsAnswered(t *testing.T) {
	s := upgradeServer(t)
	cases := []struct {
		name, refuse, header, value, bodyHas string
		status                               int
	}{
		{"with the upgrader's header lines", "yes", "X-Why", "test", "refused by the test upgrader", 400},
		// RFC 9110 §15.5.22: a 426 names the protocol it wants, whoever refused.
		{"a 426 names the upgrader's protocol", "426", "Upgrade", "foo", "wants another version", 426},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			write(t, c, "GET /required HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: upgrade\r\nX-Refuse: "+tc.refuse+"\r\n\r\n")
			var raw strings.Builder
			resp, body := readResponse(t, bufio.NewReader(io.TeeReader(c, &raw)), "GET")
			if resp.StatusCode != tc.status || resp.Header.Get(tc.header) != tc.value || !strings.Contains(body, tc.bodyHas) {
				t.Fatalf("got %d %v %q", resp.StatusCode, resp.Header, body)
			}
			if upgradeOpt := strings.Contains(raw.String(), "\r\nConnection: Upgrade"); upgradeOpt != (tc.status == 426) {
				t.Fatalf("Connection: Upgrade %v on a %d:\n%s", upgradeOpt, tc.status, raw.String())
			}
		})
	}
}

// RFC 9110 §15.5.22: the 426 of a route that requires an upgrade lists its protocols; a
// route that has none of its own relies on the server-wide ones (Server.Upgrade), and its
// 426 lists those.
func Test426ListsServerWideUpgraders(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Upgrade(testUpgrader{"baz"})
		s.Upgrade(testUpgrader{"qux"})
		s.Route("/only", Route{RequireUpgrade: true, HTTP: okHandler("plain")})
		s.Route("/own", Route{RequireUpgrade: true, HTTP: okHandler("plain"), Upgraders: []Upgrader{testUpgrader{"foo"}}})
	})
	cases := []struct{ path, want string }{{"/only", "baz, qux"}, {"/own", "foo"}}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			c := dial(t, s)
			br := bufio.NewReader(c)
			write(t, c, "GET "+tc.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, body := readResponse(t, br, "GET")
			if resp.StatusCode != 426 || resp.Header.Get("Upgrade") != tc.want || !strings.Contains(body, "speaks "+tc.want+",") {
				t.Fatalf("got %d, Upgrade %q, body %q; want 426 listing %s", resp.StatusCode, resp.Header.Get("Upgrade"), body, tc.want)
			}
			write(t, c, "GET "+tc.path+" HTTP/1.1\r\nHost: x\r\nUpgrade: "+firstToken(tc.want)+"\r\nConnection: upgrade\r\n\r\n")
			if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 101 {
				t.Fatalf("Upgrade: %s got %d, want 101", firstToken(tc.want), resp.StatusCode)
			}
		})
	}
}

// RFC 9110 §7.8: with Upgrade and Expect: 100-continue, the server sends 100 before 101,
// once, whether the body came with the head or after the 100.
func TestUpgradeWithExpectContinue(t *testing.T) {
	s := upgradeServer(t)
	head := "POST /required HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: upgrade\r\nExpect: 100-continue\r\n"
	cases := []struct {
		name, first, later string
	}{
		{"no body", head + "Content-Length: 0\r\n\r\n", ""},
		{"the body with the head", head + "Content-Length: 2\r\n\r\nok", ""},
		{"the body after the 100", head + "Content-Length: 2\r\n\r\n", "ok"},
		{"a chunked body after the 100", head + "Transfer-Encoding: chunked\r\n\r\n", "2\r\nok\r\n0\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			br := bufio.NewReader(c)
			write(t, c, tc.first)
			if got := readN(t, br, len(continue100)); got != continue100 {
				t.Fatalf("want 100 Continue first, got %q", got)
			}
			if tc.later != "" {
				write(t, c, tc.later)
			}
			if got := readN(t, br, len("HTTP/1.1 101 ")); got != "HTTP/1.1 101 " {
				t.Fatalf("after the 100: %q, want the 101", got)
			}
		})
	}
}
