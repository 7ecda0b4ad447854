package server

import (
	"strings"
	"testing"
)

// precedenceRoutes is one router for the precedence table: each route's handler is
// identified by its pattern (Request.Pattern).
var precedenceRoutes = []string{
	"/chat",
	"/rooms/{id}",
	"/rooms/lobby",
	"/rooms/{id}/info",
	"/rooms/lobby/{x}",
	"/rooms/{id}/members/{member}",
	"/static/",
	"/static/img/",
	"/files/{path...}",
	"/docs/{$}",
	"/{tenant}/settings",
	"GET /items/{id}",
	"POST /items/{id}",
	"DELETE /items/",
	"GET /only-get",
	"HEAD /only-get",
	"PUT /put/{id}",
	"/put/",
}

func newPrecedenceRouter() *router {
	rt := new(router)
	for _, p := range precedenceRoutes {
		rt.add(p, &Route{})
	}
	return rt
}

func TestRoutePrecedence(t *testing.T) {
	rt := newPrecedenceRouter()
	tests := []struct {
		name, method, path string
		want               string // the pattern that matches; "" for none (404); "405" for wrongMethod
		values             map[string]string
	}{
		{"an exact path is an exact match", "GET", "/chat", "/chat", nil},
		{"an exact path matches nothing longer", "GET", "/chat/x", "", nil},
		{"an exact path beats a wildcard at the same place", "GET", "/rooms/lobby", "/rooms/lobby", nil},
		{"a wildcard takes one segment", "GET", "/rooms/42", "/rooms/{id}", map[string]string{"id": "42"}},
		{"a wildcard does not take an empty segment", "GET", "/rooms/", "", nil},
		{"a wildcard does not take two segments", "GET", "/rooms/4/2", "", nil},
		{"a literal beats a wildcard at the first segment that differs", "GET", "/rooms/lobby/info", "/rooms/lobby/{x}", map[string]string{"x": "info"}},
		{"a wildcard then a literal", "GET", "/rooms/7/info", "/rooms/{id}/info", map[string]string{"id": "7"}},
		{"two wildcards", "GET", "/rooms/7/members/ann", "/rooms/{id}/members/{member}", map[string]string{"id": "7", "member": "ann"}},
		{"a wildcard first", "GET", "/acme/settings", "/{tenant}/settings", map[string]string{"tenant": "acme"}},
		{"a wildcard pattern beats a prefix", "GET", "/static/settings", "/{tenant}/settings", map[string]string{"tenant": "static"}},
		{"a prefix matches itself", "GET", "/static/", "/static/", nil},
		{"a prefix matches below it", "GET", "/static/css/a.css", "/static/", nil},
		{"a prefix does not match without its slash", "GET", "/static", "", nil},
		{"a longer prefix beats its own prefix", "GET", "/static/img/a.png", "/static/img/", nil},
		{"{path...} names the rest", "GET", "/files/a/b/c.txt", "/files/{path...}", map[string]string{"path": "a/b/c.txt"}},
		{"{path...} may be empty", "GET", "/files/", "/files/{path...}", map[string]string{"path": ""}},
		{"{$} matches the slash", "GET", "/docs/", "/docs/{$}", nil},
		{"{$} matches nothing below", "GET", "/docs/x", "", nil},
		{"values are as sent, percent-encoding kept", "GET", "/rooms/a%2Fb", "/rooms/{id}", map[string]string{"id": "a%2Fb"}},
		{"a method pattern serves its method", "POST", "/items/3", "POST /items/{id}", map[string]string{"id": "3"}},
		{"GET serves HEAD", "HEAD", "/items/3", "GET /items/{id}", map[string]string{"id": "3"}},
		{"an explicit HEAD beats GET's", "HEAD", "/only-get", "HEAD /only-get", nil},
		{"a method no pattern of the path serves is 405", "PATCH", "/items/3", "405", nil},
		{"a prefix with a method serves below", "DELETE", "/items/3/x", "DELETE /items/", nil},
		{"a wrong method falls through to a prefix serving it", "DELETE", "/items/3", "DELETE /items/", nil},
		{"a wrong method on a wildcard falls through to a method-less prefix", "GET", "/put/9", "/put/", nil},
		{"methods are case-sensitive", "get", "/only-get", "405", nil},
		{"an unknown path is 404", "GET", "/nowhere", "", nil},
		{"an asterisk target has no route", "OPTIONS", "*", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Request{Method: []byte(tt.method), Path: []byte(tt.path)}
			got := rt.match(r.Method, r.Path, &r.match)
			switch {
			case tt.want == "":
				if got != nil {
					t.Fatalf("matched %q, want no route", r.Pattern())
				}
				return
			case tt.want == "405":
				if got != &wrongMethod {
					t.Fatalf("got %p (pattern %q), want wrongMethod", got, r.Pattern())
				}
				return
			case got == nil || got == &wrongMethod:
				t.Fatalf("no match, want %q", tt.want)
			}
			if r.Pattern() != tt.want {
				t.Fatalf("matched %q, want %q", r.Pattern(), tt.want)
			}
			for name, want := range tt.values {
				v := r.PathValue(name)
				if v == nil || string(v) != want {
					t.Errorf("PathValue(%q) = %q (nil %v), want %q", name, v, v == nil, want)
				}
			}
			if r.PathValue("nope") != nil {
				t.Errorf("PathValue of a name the pattern lacks is not nil")
			}
		})
	}
}

func TestRouteDefaultBeatsWrongMethodButNotAMatch(t *testing.T) {
	rt := new(router)
	rt.add("GET /x", &Route{})
	dflt := &Route{}
	rt.add("", dflt)
	var m pathMatch
	if got := rt.match([]byte("POST"), []byte("/x"), &m); got != dflt {
		t.Fatalf("POST /x: got %p, want the default route", got)
	}
	if got := rt.match([]byte("GET"), []byte("/x"), &m); got == dflt || got == nil {
		t.Fatalf("GET /x: got %p, want the GET route", got)
	}
}

func TestRouteRegisteringAgainReplaces(t *testing.T) {
	rt := new(router)
	a, b := &Route{}, &Route{}
	rt.add("/rooms/{id}", a)
	rt.add("/rooms/{id}", b)
	var m pathMatch
	if got := rt.match([]byte("GET"), []byte("/rooms/1"), &m); got != b {
		t.Fatal("the second registration did not replace the first")
	}
}

func TestRouteAllow(t *testing.T) {
	rt := newPrecedenceRouter()
	tests := []struct{ path, want string }{
		{"/items/3", "DELETE, GET, HEAD, POST"}, // GET and POST /items/{id}, DELETE /items/
		{"/only-get", "GET, HEAD"},
		{"/put/1", "PUT"},
	}
	for _, tt := range tests {
		if got := rt.allow([]byte(tt.path)); got != tt.want {
			t.Errorf("allow(%s) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestMalformedPatternsPanic(t *testing.T) {
	for _, p := range []string{
		"chat",                                 // no leading slash
		"example.com/chat",                     // host patterns
		"/rooms/{id",                           // unbalanced
		"/rooms/x{id}",                         // not a whole segment
		"/rooms/{}",                            // no name
		"/rooms/{1d}",                          // not an identifier
		"/a/{id}/b/{id}",                       // repeated name
		"/files/{path...}/x",                   // ... not last
		"/a/{$}/b",                             // {$} not last
		"G(T /x",                               // method not a token
		"/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", // too many
	} {
		t.Run(p, func(t *testing.T) {
			if CheckPattern(p) == nil {
				t.Errorf("CheckPattern(%q) found no fault", p)
			}
			defer func() {
				if recover() == nil {
					t.Fatalf("%q did not panic", p)
				}
			}()
			new(router).add(p, &Route{})
		})
	}
}

func TestCheckPatternAcceptsValidPatterns(t *testing.T) {
	for _, p := range append([]string{"", "/", "/{$}", "GET /x/{a}/{b...}"}, precedenceRoutes...) {
		if err := CheckPattern(p); err != nil {
			t.Errorf("CheckPattern(%q): %v", p, err)
		}
	}
}

// allocRouter has many routes of each kind, so that matching walks past others.
func allocRouter() *router {
	rt := newPrecedenceRouter()
	for _, p := range []string{"/a", "/b", "/c/d", "/e/{x}", "/f/{x}/g", "/h/"} {
		rt.add(p, &Route{})
	}
	return rt
}

var matchCases = []struct{ name, method, path string }{
	{"exact", "GET", "/chat"},
	{"param", "GET", "/rooms/7/members/ann"},
	{"prefix", "GET", "/static/img/logo.png"},
	{"rest", "GET", "/files/a/b/c.txt"},
	{"method", "POST", "/items/3"},
	{"notFound", "GET", "/nowhere/at/all"},
}

// Matching a route, exact, with wildcards or by prefix, and reading its path values
// allocates nothing.
func TestRouteMatchAllocatesNothing(t *testing.T) {
	rt := allocRouter()
	for _, mc := range matchCases {
		t.Run(mc.name, func(t *testing.T) {
			r := &Request{Method: []byte(mc.method), Path: []byte(mc.path)}
			allocs := testing.AllocsPerRun(1000, func() {
				rt.match(r.Method, r.Path, &r.match)
				_ = r.PathValue("member")
				_ = r.PathValue("path")
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per match, want 0", allocs)
			}
		})
	}
}

func BenchmarkRouteMatch(b *testing.B) {
	rt := allocRouter()
	for _, mc := range matchCases {
		b.Run(mc.name, func(b *testing.B) {
			r := &Request{Method: []byte(mc.method), Path: []byte(mc.path)}
			b.ReportAllocs()
			for b.Loop() {
				rt.match(r.Method, r.Path, &r.match)
			}
		})
	}
}

// A whole HTTP/1.1 request on a parameterised route, with its handler reading the path
// value, allocates nothing once warm.
func TestServingAParameterisedRouteAllocatesNothing(t *testing.T) {
	c := fakeConn(func(s *Server) {
		s.Route("GET /rooms/{id}", Route{HTTP: func(w *ResponseWriter, r *Request) {
			_, _ = w.Write(r.PathValue("id"))
		}})
	})
	req := []byte("GET /rooms/42 HTTP/1.1\r\nHost: x\r\n\r\n")
	allocs := testing.AllocsPerRun(200, func() {
		if c.Feed(req) {
			t.Fatal("request was refused")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per request, want 0", allocs)
	}
	c.Record(true)
	c.Feed(req)
	if !strings.Contains(string(c.Output()), "\r\n\r\n42") {
		t.Fatalf("response does not carry the path value: %q", c.Output())
	}
}
