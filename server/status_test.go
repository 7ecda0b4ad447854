package server

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"testing"
)

// A handler's status reaches the wire only as a valid final status (RFC 9110 §15: 100-599,
// 1xx being interim), and a 205 carries no content, announced with Content-Length: 0
// (§15.3.6), so the next response on the connection is still framed right.
func TestHandlerStatusIsValidAndFramed(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/status", Route{HTTP: func(w *ResponseWriter, r *Request) {
			code, _ := strconv.Atoi(string(r.Query))
			w.WriteHeader(code)
			_, _ = w.WriteString("body")
		}})
		s.Route("/next", Route{HTTP: okHandler("next")})
	})
	cases := []struct {
		set, want int
		head      string // a line the head must carry
		body      string
	}{
		{205, 205, "Content-Length: 0", ""},
		{599, 599, "Content-Length: 4", "body"},
		{600, 500, "Content-Length: 4", "body"},
		{999, 500, "Content-Length: 4", "body"},
		{99, 500, "Content-Length: 4", "body"},
		{0, 500, "Content-Length: 4", "body"},
		{-1, 500, "Content-Length: 4", "body"},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.set), func(t *testing.T) {
			c := dial(t, s)
			write(t, c, "GET /status?"+strconv.Itoa(tc.set)+" HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
			var raw strings.Builder
			br := bufio.NewReader(io.TeeReader(c, &raw))
			resp, body := readResponse(t, br, "GET")
			if resp.StatusCode != tc.want || body != tc.body || !strings.Contains(raw.String(), "\r\n"+tc.head+"\r\n") {
				t.Fatalf("got %d %q, want %d %q with %q:\n%s", resp.StatusCode, body, tc.want, tc.body, tc.head, raw.String())
			}
			if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "next" {
				t.Fatalf("the next response: %d %q:\n%s", resp.StatusCode, body, raw.String())
			}
		})
	}
}
