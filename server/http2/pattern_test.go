package http2

import (
	"bufio"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

// patternHandler answers with the pattern that matched and the path values it names.
func patternHandler(w *server.ResponseWriter, r *server.Request) {
	_, _ = w.WriteString(r.Pattern())
	for _, name := range []string{"id", "member", "rest"} {
		if v := r.PathValue(name); v != nil {
			_, _ = w.WriteString(" " + name + "=")
			_, _ = w.Write(v)
		}
	}
}

// Routing over HTTP/2 streams is HTTP/1.1's (server/pattern_serve_test.go): the same
// patterns, path values, 405 with Allow, and path values in a worker-pool handler.
func TestRoutingOverHTTP2(t *testing.T) {
	s := startServer(t, server.Config{Logger: discard}, func(s *server.Server) {
		for _, p := range []string{"/chat", "/rooms/{id}", "/rooms/lobby", "/rooms/{id}/members/{member}",
			"/static/", "/files/{rest...}", "GET /items/{id}", "POST /items/{id}"} {
			s.Route(p, server.Route{HTTP: patternHandler})
		}
		s.Route("GET /slow/{id}", server.Route{HTTP: patternHandler, UseWorkerPool: true})
		s.Upgrade(New(Config{}))
	})
	tests := []struct {
		name, method, path string
		status             string
		body, allow        string
	}{
		{"exact", "GET", "/chat", "200", "/chat", ""},
		{"exact beats a wildcard", "GET", "/rooms/lobby", "200", "/rooms/lobby", ""},
		{"one wildcard", "GET", "/rooms/42", "200", "/rooms/{id} id=42", ""},
		{"two wildcards", "GET", "/rooms/42/members/ann", "200", "/rooms/{id}/members/{member} id=42 member=ann", ""},
		{"prefix", "GET", "/static/css/site.css", "200", "/static/", ""},
		{"rest of the path", "GET", "/files/a/b.txt", "200", "/files/{rest...} rest=a/b.txt", ""},
		{"query is not part of the path", "GET", "/rooms/7?x=1", "200", "/rooms/{id} id=7", ""},
		{"method route", "POST", "/items/3", "200", "POST /items/{id} id=3", ""},
		{"wrong method is 405 with Allow", "PUT", "/items/3", "405", "", "GET, HEAD, POST"},
		{"worker-pool handler sees path values", "GET", "/slow/9", "200", "GET /slow/{id} id=9", ""},
		{"unknown path is 404", "GET", "/nowhere", "404", "", ""},
	}
	c := dial(t, s)
	cl := newH2Client(t, c, bufio.NewReader(c))
	cl.write(clientPreface())
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := uint32(2*i + 1)
			var body []byte
			if tt.method == "POST" || tt.method == "PUT" {
				body = []byte("x")
			}
			cl.write(cl.request(nil, id, tt.method, tt.path, body))
			r := cl.readUntil(id).streams[id]
			if r == nil || r.status != tt.status {
				t.Fatalf("stream %d: %+v, want status %s", id, r, tt.status)
			}
			if tt.status == "200" && string(r.body) != tt.body {
				t.Fatalf("body %q, want %q", r.body, tt.body)
			}
			if r.fields["allow"] != tt.allow {
				t.Fatalf("allow %q, want %q", r.fields["allow"], tt.allow)
			}
		})
	}
}
