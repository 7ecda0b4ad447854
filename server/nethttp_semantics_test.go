package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
)

// TestNetHTTPSemanticsMatchNetHTTP: where net/http's own server gives a handler's request
// or response a meaning, a NetHTTP route gives the same, over HTTP/1.1 and HTTP/2 alike.
func TestNetHTTPSemanticsMatchNetHTTP(t *testing.T) {
	writeErr := make(chan error, 1)
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/", server.NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/own-date":
			w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
			w.Header().Set("Server", "myapp")
		case "/head":
			if r.Method == http.MethodHead {
				return // the GET's length is unknown here
			}
		case "/control-char":
			w.Header().Set("X-Name", "d\x01e")
			w.Header().Set("X-Tab", "a\tb")
		case "/no-content":
			w.WriteHeader(http.StatusNoContent)
			_, err := io.WriteString(w, "body")
			writeErr <- err
			return
		case "/encoded":
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3})
			return
		}
		_, _ = io.ReadAll(r.Body)
		fmt.Fprintf(w, "cookie=%q te=%q close=%v", r.Header["Cookie"], r.Header.Get("Transfer-Encoding"), r.Close)
	})))
	srv.Upgrade(http2.New(http2.Config{}))
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	defer func() { stop(); <-done }()
	base := "http://" + srv.Addr().String()

	cases := []struct {
		name, method, path string
		prepare            func(*http.Request)
		check              func(resp *http.Response, body string, h2 bool) string // what is wrong
	}{
		{"the handler's Date and Server replace the server's (RFC 9110 §5.3)", "GET", "/own-date", nil,
			func(resp *http.Response, _ string, _ bool) string {
				if d, s := resp.Header["Date"], resp.Header["Server"]; len(d) != 1 || d[0] != "Mon, 02 Jan 2006 15:04:05 GMT" || len(s) != 1 || s[0] != "myapp" {
					return fmt.Sprintf("Date %q, Server %q", d, s)
				}
				return ""
			}},
		{"a HEAD that does not know its length announces none (RFC 9110 §8.6)", "HEAD", "/head", nil,
			func(resp *http.Response, _ string, _ bool) string {
				if v, ok := resp.Header["Content-Length"]; ok {
					return fmt.Sprintf("Content-Length %q", v)
				}
				return ""
			}},
		{"a value with a control character is dropped, HTAB is not (RFC 9110 §5.5)", "GET", "/control-char", nil,
			func(resp *http.Response, _ string, _ bool) string {
				if _, ok := resp.Header["X-Name"]; ok || resp.Header.Get("X-Tab") != "a\tb" {
					return fmt.Sprintf("X-Name %q, X-Tab %q", resp.Header["X-Name"], resp.Header.Get("X-Tab"))
				}
				return ""
			}},
		{"a body for 204 is refused with http.ErrBodyNotAllowed", "GET", "/no-content", nil,
			func(resp *http.Response, body string, _ bool) string {
				if err := <-writeErr; resp.StatusCode != 204 || body != "" || err != http.ErrBodyNotAllowed {
					return fmt.Sprintf("%d %q, the write returned %v", resp.StatusCode, body, err)
				}
				return ""
			}},
		{"an encoded body is not sniffed", "GET", "/encoded", nil,
			func(resp *http.Response, _ string, _ bool) string {
				if ct, ok := resp.Header["Content-Type"]; ok {
					return fmt.Sprintf("Content-Type %q", ct)
				}
				return ""
			}},
		{"cookies arrive as one field (RFC 9113 §8.2.3)", "GET", "/", func(r *http.Request) { r.Header.Set("Cookie", "a=1; b=2; c=3") },
			func(_ *http.Response, body string, _ bool) string {
				if !strings.HasPrefix(body, `cookie=["a=1; b=2; c=3"]`) {
					return body
				}
				return ""
			}},
		{"a streamed body leaves no Transfer-Encoding in Header", "POST", "/", func(r *http.Request) {
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader("abc")), -1 // chunked over HTTP/1.1
		}, func(_ *http.Response, body string, _ bool) string {
			if !strings.Contains(body, `te="" `) {
				return body
			}
			return ""
		}},
		{"Connection: close sets Request.Close over HTTP/1.1", "GET", "/", func(r *http.Request) { r.Close = true },
			func(_ *http.Response, body string, h2 bool) string {
				if !strings.HasSuffix(body, fmt.Sprintf("close=%v", !h2)) {
					return body
				}
				return ""
			}},
	}
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		client := http.DefaultClient
		if proto == "HTTP/2" {
			client = h2cClient()
		}
		for _, tc := range cases {
			t.Run(proto+"/"+tc.name, func(t *testing.T) {
				req, err := http.NewRequest(tc.method, base+tc.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tc.prepare != nil {
					tc.prepare(req)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 && tc.path != "/no-content" || resp.Proto[:6] != proto[:6] {
					t.Fatalf("%s %d", resp.Proto, resp.StatusCode)
				}
				if wrong := tc.check(resp, string(body), proto == "HTTP/2"); wrong != "" {
					t.Fatalf("got %s", wrong)
				}
			})
		}
	}
}
