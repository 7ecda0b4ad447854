package server

import (
	"bufio"
	"testing"
)

// patternHandler answers with the pattern that matched and the path values it names.
func patternHandler(w *ResponseWriter, r *Request) {
	_, _ = w.WriteString(r.Pattern())
	for _, name := range []string{"id", "member", "rest"} {
		if v := r.PathValue(name); v != nil {
			_, _ = w.WriteString(" " + name + "=")
			_, _ = w.Write(v)
		}
	}
}

// PatternRoutes are the routes of the routing tests over sockets, HTTP/1.1 here and
// HTTP/2 in package http2 (which has its own copy, as a test cannot import another's).
func patternRoutes(s *Server) {
	for _, p := range []string{"/chat", "/rooms/{id}", "/rooms/lobby", "/rooms/{id}/members/{member}",
		"/static/", "/files/{rest...}", "GET /items/{id}", "POST /items/{id}"} {
		s.Route(p, Route{HTTP: patternHandler})
	}
	s.Route("GET /slow/{id}", Route{HTTP: patternHandler, UseWorkerPool: true})
}

var patternRequests = []struct {
	name, method, path string
	status             int
	body, allow        string
}{
	{"exact", "GET", "/chat", 200, "/chat", ""},
	{"exact beats a wildcard", "GET", "/rooms/lobby", 200, "/rooms/lobby", ""},
	{"one wildcard", "GET", "/rooms/42", 200, "/rooms/{id} id=42", ""},
	{"two wildcards", "GET", "/rooms/42/members/ann", 200, "/rooms/{id}/members/{member} id=42 member=ann", ""},
	{"prefix", "GET", "/static/css/site.css", 200, "/static/", ""},
	{"rest of the path", "GET", "/files/a/b.txt", 200, "/files/{rest...} rest=a/b.txt", ""},
	{"query is not part of the path", "GET", "/rooms/7?x=1", 200, "/rooms/{id} id=7", ""},
	{"method route", "POST", "/items/3", 200, "POST /items/{id} id=3", ""},
	{"wrong method is 405 with Allow", "PUT", "/items/3", 405, "", "GET, HEAD, POST"},
	{"worker-pool handler sees path values", "GET", "/slow/9", 200, "GET /slow/{id} id=9", ""},
	{"unknown path is 404", "GET", "/nowhere", 404, "", ""},
}

func TestRoutingOverHTTP1(t *testing.T) {
	s := startServer(t, Config{}, patternRoutes)
	c := dial(t, s)
	br := bufio.NewReader(c)
	for _, tt := range patternRequests {
		t.Run(tt.name, func(t *testing.T) {
			body := ""
			if tt.method == "POST" || tt.method == "PUT" {
				body = "Content-Length: 0\r\n"
			}
			write(t, c, tt.method+" "+tt.path+" HTTP/1.1\r\nHost: x\r\n"+body+"\r\n")
			resp, got := readResponse(t, br, tt.method)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%q)", resp.StatusCode, tt.status, got)
			}
			if tt.status == 200 && got != tt.body {
				t.Fatalf("body %q, want %q", got, tt.body)
			}
			if a := resp.Header.Get("Allow"); a != tt.allow {
				t.Fatalf("Allow %q, want %q", a, tt.allow)
			}
		})
	}
}

// An upgrade goes to the route its path and method match, and the upgrader sees the path
// values; a method the route does not serve gets 405, not the upgrade.
func TestUpgradeOnAParameterisedRoute(t *testing.T) {
	seen := make(chan string, 1)
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("GET /rooms/{id}", Route{Upgraders: []Upgrader{upgraderFunc{"test", func(r *Request) {
			seen <- r.Pattern() + " " + string(r.PathValue("id"))
		}}}})
	})
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, "POST /rooms/5 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
	if resp, _ := readResponse(t, br, "POST"); resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	write(t, c, "GET /rooms/5 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 101 {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	if got := <-seen; got != "GET /rooms/{id} 5" {
		t.Fatalf("the upgrader saw %q", got)
	}
}

// upgraderFunc is testUpgrader that first shows the request to see.
type upgraderFunc struct {
	token string
	see   func(*Request)
}

func (u upgraderFunc) Token() string { return u.token }

func (u upgraderFunc) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	u.see(r)
	return testUpgrader{u.token}.Upgrade(c, r, hdr)
}
