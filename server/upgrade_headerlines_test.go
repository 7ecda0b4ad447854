package server

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
)

// sloppyLines are header lines an Upgrader could build from untrusted data: an injected
// line behind a bare LF, a NUL, a name with a space, and the framing fields the server
// writes itself. Only "X-Good: 1" and "X-Tab: a\tb" are fields the server may send.
const sloppyLines = "X-Good: 1\r\nX-Split: a\nInjected: yes\r\nX-Nul: a\x00b\r\nBad Name: x\r\n" +
	"Content-Length: 0\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nX-Tab: a\tb\r\n"

// sloppyUpgrader accepts with sloppyLines, or refuses with them when asked.
type sloppyUpgrader struct{}

func (sloppyUpgrader) Token() string { return "foo" }

func (sloppyUpgrader) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	if status, err := strconv.Atoi(string(r.Get("X-Refuse"))); err == nil {
		return nil, hdr, &Rejection{Status: status, Header: sloppyLines, Reason: "refused"}
	}
	return &testProtocol{token: "foo", closed: make(chan struct{})}, append(hdr, sloppyLines...), nil
}

// An Upgrader's header lines reach the wire only as valid fields, and never as the fields
// that frame the response: a value with a CR, LF or NUL cannot split the 101 or a refusal
// (RFC 9110 §5.5), and a Content-Length from the upgrader cannot cut a refusal's body
// short or sit on a 101 (RFC 9110 §8.6).
func TestUpgraderHeaderLinesAreSanitised(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/up", Route{RequireUpgrade: true, Upgraders: []Upgrader{sloppyUpgrader{}}})
	})
	cases := []struct {
		name, refuse, status string
		server               []string // the lines the server adds, Date aside
	}{
		{"accepted: the 101", "", "HTTP/1.1 101 Switching Protocols", []string{"Upgrade: foo", "Connection: Upgrade"}},
		{"refused: a 400", "400", "HTTP/1.1 400 Bad Request", []string{"Server: switchyard", "Content-Type: text/plain; charset=utf-8", "Content-Length: 8"}},
		{"refused: a 426", "426", "HTTP/1.1 426 Upgrade Required", []string{"Server: switchyard", "Connection: Upgrade", "Upgrade: foo", "Content-Type: text/plain; charset=utf-8", "Content-Length: 8"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			br := bufio.NewReader(c)
			write(t, c, "GET /up HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: upgrade\r\nX-Refuse: "+tc.refuse+"\r\n\r\n")
			head := readHead(t, br)
			want := append([]string{tc.status}, tc.server...)
			want = append(want, "X-Good: 1", "X-Tab: a\tb")
			if got := withoutDate(head); !sameLines(got, want) {
				t.Fatalf("head lines %q, want %q in any order", got, want)
			}
			if tc.refuse == "" {
				if got := readN(t, br, len("[foo started]")); got != "[foo started]" {
					t.Fatalf("after the 101: %q", got)
				}
				return
			}
			if got := readN(t, br, len("refused\n")); got != "refused\n" {
				t.Fatalf("body %q", got)
			}
			write(t, c, "GET /up HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n")
			if got := readHead(t, br)[0]; got != "HTTP/1.1 101 Switching Protocols" {
				t.Fatalf("the connection did not stay usable after the refusal: %q", got)
			}
		})
	}
}

// readHead reads a response head and returns its lines without their CRLF.
func readHead(t *testing.T, br *bufio.Reader) []string {
	t.Helper()
	var lines []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the head after %q: %v", lines, err)
		}
		if !strings.HasSuffix(line, "\r\n") {
			t.Fatalf("line %q does not end in CRLF (after %q)", line, lines)
		}
		if line == "\r\n" {
			return lines
		}
		lines = append(lines, strings.TrimSuffix(line, "\r\n"))
	}
}

func withoutDate(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "Date: ") {
			out = append(out, l)
		}
	}
	return out
}

func sameLines(got, want []string) bool {
	if len(got) != len(want) || got[0] != want[0] {
		return false
	}
	left := map[string]int{}
	for _, l := range want {
		left[l]++
	}
	for _, l := range got {
		if left[l] == 0 {
			return false
		}
		left[l]--
	}
	return true
}
