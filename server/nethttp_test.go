package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// netHTTPServer serves routes set up by setup and returns a net/http client for it and
// its base URL.
func netHTTPServer(t *testing.T, setup func(*Server)) (*Server, string) {
	t.Helper()
	s := startServer(t, Config{}, setup)
	return s, "http://" + s.Addr().String()
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestNetHTTPFileServerOnPrefix: net/http's FileServer behind StripPrefix, mounted on a
// prefix route, serves files, listings and 404s over a real socket.
func TestNetHTTPFileServerOnPrefix(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello, file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, base := netHTTPServer(t, func(s *Server) {
		s.Route("/static/", NetHTTPRoute(http.StripPrefix("/static/", http.FileServer(http.Dir(dir)))))
	})
	cases := []struct {
		path, wantBody, wantType string
		status                   int
	}{
		{"/static/hello.txt", "hello, file\n", "text/plain; charset=utf-8", 200},
		{"/static/", `<a href="hello.txt">hello.txt</a>`, "text/html; charset=utf-8", 200},
		{"/static/missing.txt", "404 page not found", "text/plain; charset=utf-8", 404},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, base+tc.path)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.wantBody) || resp.Header.Get("Content-Type") != tc.wantType {
				t.Fatalf("got %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	}
	resp, _ := get(t, base+"/static/hello.txt")
	if resp.Header.Get("Last-Modified") == "" || resp.ContentLength != int64(len("hello, file\n")) {
		t.Fatalf("FileServer's headers: %v", resp.Header)
	}
	// HEAD announces the length a GET gets (RFC 9110 §9.3.2), with no body.
	head, err := http.Head(base + "/static/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer head.Body.Close()
	if head.StatusCode != 200 || head.ContentLength != int64(len("hello, file\n")) {
		t.Fatalf("HEAD: %d with Content-Length %d, want 200 with %d", head.StatusCode, head.ContentLength, len("hello, file\n"))
	}
}

// TestNetHTTPRequestFields: the *http.Request a handler gets carries what the client sent:
// method, URL, query, headers, Host, RemoteAddr, the body (Content-Length or chunked), a
// ServeMux's path values on its own patterns and switchyard's route path values.
func TestNetHTTPRequestFields(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%s %s id=%s q=%s x=%s host=%s remote=%s local=%v len=%d proto=%s body=%s",
			r.Method, r.URL.Path, r.PathValue("id"), r.URL.Query().Get("q"), r.Header.Get("X-Test"),
			r.Host, r.RemoteAddr, r.Context().Value(http.LocalAddrContextKey), r.ContentLength, r.Proto, body)
	})
	_, base := netHTTPServer(t, func(s *Server) {
		s.Route("/api/", NetHTTPRoute(mux))
		s.Route("/rooms/{room}/", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "room=%s pattern=%s", r.PathValue("room"), r.Pattern)
		})))
	})
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			framing, body := "Content-Length: 5\r\n\r\nhello", "hello"
			if chunked { // a body that streams in, in two chunks
				framing = "Transfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"
			}
			write(t, c, "POST /api/items/42?q=v HTTP/1.1\r\nHost: example.test\r\nX-Test: yes\r\n"+framing)
			resp, got := readResponse(t, bufio.NewReader(c), "POST")
			want := fmt.Sprintf("POST /api/items/42 id=42 q=v x=yes host=example.test remote=%s local=%s len=5 proto=HTTP/1.1 body=%s",
				c.LocalAddr(), c.RemoteAddr(), body)
			if resp.StatusCode != 200 || got != want {
				t.Fatalf("got %d %q\nwant %q", resp.StatusCode, got, want)
			}
		})
	}
	if _, body := get(t, base+"/rooms/blue/x"); body != "room=blue pattern=/rooms/{room}/" {
		t.Fatalf("route path values: %q", body)
	}
}

// TestNetHTTPResponses: what handlers write reaches the client: status, headers, a body
// written in pieces with Flush between (buffered, sent whole), content sniffing; and the
// errors: a panic, a response over MaxResponseBytes, Hijack.
func TestNetHTTPResponses(t *testing.T) {
	hijackErr := make(chan error, 1)
	_, base := netHTTPServer(t, func(s *Server) {
		s.Route("/status", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Custom", "v")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTeapot)
			w.Header().Set("X-Late", "ignored") // after WriteHeader, as in net/http
			w.WriteHeader(500)                  // superfluous: ignored
			_, _ = io.WriteString(w, `{"ok":true}`)
		})))
		s.Route("/pieces", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for i := range 3 {
				fmt.Fprintf(w, "part%d;", i)
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("Flush: %v", err)
				}
			}
		})))
		s.Route("/sniff", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "<html><body>hi</body></html>")
		})))
		s.Route("/panic", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "half")
			panic("boom")
		})))
		s.Route("/big", NetHTTP{MaxResponseBytes: 10, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.WriteString(w, strings.Repeat("x", 11)); !errors.Is(err, ErrResponseTooLarge) {
				t.Errorf("Write past the limit: %v", err)
			}
		})}.Route())
		s.Route("/hijack", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _, err := http.NewResponseController(w).Hijack()
			hijackErr <- err
		})))
	})
	cases := []struct {
		path, body, header, value string
		status                    int
	}{
		{"/status", `{"ok":true}`, "X-Custom", "v", 418},
		{"/status", `{"ok":true}`, "Content-Type", "application/json", 418},
		{"/status", `{"ok":true}`, "X-Late", "", 418},
		{"/pieces", "part0;part1;part2;", "Content-Length", "", 200}, // flushed: streamed, chunked
		{"/sniff", "<html><body>hi</body></html>", "Content-Type", "text/html; charset=utf-8", 200},
		{"/panic", "the handler panicked\n", "", "", 500},
		{"/big", "the handler's response exceeds the route's MaxResponseBytes (10 bytes)\n", "", "", 500},
		{"/hijack", "", "Content-Length", "0", 200},
	}
	for _, tc := range cases {
		t.Run(tc.path+" "+tc.header, func(t *testing.T) {
			resp, body := get(t, base+tc.path)
			if resp.StatusCode != tc.status || body != tc.body || (tc.header != "" && resp.Header.Get(tc.header) != tc.value) {
				t.Fatalf("got %d %q %v", resp.StatusCode, body, resp.Header)
			}
		})
	}
	if err := <-hijackErr; !errors.Is(err, http.ErrNotSupported) {
		t.Fatalf("Hijack: %v, want http.ErrNotSupported", err)
	}
}

// TestNetHTTPContextEndsWithConnection: a handler waiting on its request's context sees
// it cancelled when its connection ends: the client closes it, or the server gives up on
// the handler at HandlerTimeout (503, and the connection closes), as net/http's
// TimeoutHandler cancels the context of the handler it gives up on.
func TestNetHTTPContextEndsWithConnection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		hangUp bool   // the client closes once the handler has started
		status string // the response the client reads instead, if it does not hang up
	}{
		{name: "the client closes", hangUp: true},
		{name: "HandlerTimeout", cfg: Config{HandlerTimeout: 100 * time.Millisecond}, status: "HTTP/1.1 503 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started, cancelled := make(chan struct{}), make(chan error, 1)
			s := startServer(t, tc.cfg, func(s *Server) {
				s.Route("/wait", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					close(started)
					select {
					case <-r.Context().Done():
						cancelled <- r.Context().Err()
					case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
						cancelled <- errors.New("the context was not cancelled")
					}
				})))
			})
			c := dial(t, s)
			write(t, c, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
			<-started
			if tc.hangUp {
				c.Close()
			} else {
				_ = c.SetReadDeadline(time.Now().Add(time.Minute))
				line, err := bufio.NewReader(c).ReadString('\n')
				if !strings.HasPrefix(line, tc.status) {
					t.Fatalf("response %q (%v), want %q", line, err, tc.status)
				}
			}
			if err := <-cancelled; !errors.Is(err, context.Canceled) {
				t.Fatalf("context: %v", err)
			}
		})
	}
}
