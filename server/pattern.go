package server

import (
	"fmt"
	"slices"
	"strings"

	"github.com/switchyard-dev/switchyard/parser"
)

// Routing patterns, in the syntax of Go 1.22's net/http.ServeMux (without host patterns):
//
//	[METHOD ]/path
//
//   - "/chat" matches that path exactly.
//   - "/rooms/{id}" matches one whole, non-empty segment: "/rooms/42", not "/rooms/" nor
//     "/rooms/4/2". Request.PathValue("id") returns it.
//   - "/static/" (a trailing slash) matches every path that begins with it, "/static/" itself
//     included; "/" matches every path. "/files/{path...}" does the same and names the rest
//     of the path ("" for "/files/").
//   - "/{$}" and "/docs/{$}" match only the path ending in that slash.
//   - "GET /x" serves only GET (and HEAD, which GET serves unless a "HEAD /x" is routed);
//     a pattern without a method serves every method.
//
// The most specific pattern wins, whatever the order of registration: an exact path first
// (a map lookup, as fast as before patterns existed), then patterns with {name}
// wildcards, then prefixes (a trailing slash or {name...}), then the default route (""). Among
// patterns of one kind, segments are compared left to right and a literal segment beats a
// {name} at the first segment where they differ ("/rooms/lobby/{x}" beats
// "/rooms/{id}/info" for "/rooms/lobby/info"); among prefixes, a longer one beats its own
// shorter prefix ("/static/img/" beats "/static/"). A pattern that matches the path but
// not the method is skipped for a less specific one that matches both; when none does, the
// answer is 405 with an Allow header listing the methods the path is served with.
//
// Matching is over the request's path as sent: neither percent-decoded nor cleaned ("..",
// "//"), so a handler serving files must still check the path values it uses.

// maxPathValues bounds the wildcards in one pattern: their positions live in the
// Request, not in an allocated map.
const maxPathValues = 8

// pathSpan is one wildcard's value: Path[start:end].
type pathSpan struct{ start, end int32 }

// pathMatch is the pattern a request matched and where its wildcards' values are.
type pathMatch struct {
	e     *patEntry
	spans [maxPathValues]pathSpan
}

// patEntry is one registered pattern.
type patEntry struct {
	route   *Route
	pattern string   // as registered, for Request.Pattern
	method  string   // "" for every method
	names   []string // the wildcards' names, in order ({name...} last)
}

// leaf holds the patterns that end at one place of the tree, by method.
type leaf struct {
	any     *patEntry
	methods []*patEntry
}

// pick returns the entry serving method: its own, GET's for HEAD, or the method-less one.
func (l *leaf) pick(method []byte) *patEntry {
	for _, e := range l.methods {
		if string(method) == e.method {
			return e
		}
	}
	if string(method) == "HEAD" {
		for _, e := range l.methods {
			if e.method == "GET" {
				return e
			}
		}
	}
	return l.any
}

// put registers e, replacing a pattern of the same method.
func (l *leaf) put(e *patEntry) {
	if e.method == "" {
		l.any = e
		return
	}
	for i, old := range l.methods {
		if old.method == e.method {
			l.methods[i] = e
			return
		}
	}
	l.methods = append(l.methods, e)
}

// node is a place in the tree of wildcard and prefix patterns: after one path segment.
type node struct {
	lits  []litEdge
	param *node // a {name} segment
	end   *leaf // patterns whose last segment is this node's
	rest  *leaf // prefix patterns: this node's segment then "/" and anything
}

type litEdge struct {
	seg string
	n   *node
}

func (n *node) lit(seg string) *node {
	for _, e := range n.lits {
		if e.seg == seg {
			return e.n
		}
	}
	c := new(node)
	n.lits = append(n.lits, litEdge{seg, c})
	return c
}

// router holds a server's routes.
type router struct {
	exact map[string]*leaf // patterns without wildcards
	root  node             // wildcard and prefix patterns; root.rest holds "/"
	tree  bool             // the tree holds a pattern
	dflt  *Route
}

// wrongMethod is the route of a path some pattern matches but not with the request's
// method: 405 with Allow.
var wrongMethod Route

// parsedPattern is a pattern split into its parts.
type parsedPattern struct {
	method string
	path   string   // the exact path, for a pattern without wildcards
	segs   []string // segments; a wildcard is "{}" once its name has gone to names
	names  []string
	prefix bool // ends in "/" or {name...}
	exact  bool // no wildcard, no prefix
}

// parsePattern reads "[METHOD ]/path", panicking on a malformed pattern as ServeMux does
// (routes are set up by the program, so a bad one is a bug to report at once).
func parsePattern(pattern string) parsedPattern {
	var p parsedPattern
	bad := func(why string) { panic("switchyard: route pattern " + `"` + pattern + `": ` + why) }
	rest := pattern
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		p.method, rest = rest[:i], strings.TrimLeft(rest[i:], " \t")
		for j := 0; j < len(p.method); j++ {
			if !parser.IsTchar(p.method[j]) {
				bad("the method is not a token")
			}
		}
	}
	if !strings.HasPrefix(rest, "/") {
		bad("the path must begin with '/' (host patterns are not supported)")
	}
	segs := strings.Split(rest[1:], "/")
	exactPath := rest
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case !strings.ContainsAny(s, "{}"):
			if last && s == "" {
				p.prefix = true // trailing slash
				segs = segs[:i]
			}
		case s == "{$}":
			if !last {
				bad("{$} must end the pattern")
			}
			if i > 0 && segs[i-1] == "" {
				bad("{$} must follow a single '/'")
			}
			segs[i] = "" // the empty last segment of a path ending in '/'
			exactPath = rest[:len(rest)-len("{$}")]
		case len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}':
			name, multi := strings.CutSuffix(s[1:len(s)-1], "...")
			if multi && !last {
				bad("{" + name + "...} must end the pattern")
			}
			if !validName(name) {
				bad("wildcard name " + `"` + name + `"` + " is not a Go identifier")
			}
			if slices.Contains(p.names, name) {
				bad("wildcard name " + `"` + name + `"` + " appears twice")
			}
			p.names = append(p.names, name)
			if multi {
				p.prefix = true
				segs = segs[:i]
			} else {
				segs[i] = "{}"
			}
		default:
			bad("a wildcard must be a whole segment: {name}, {name...} or {$}")
		}
	}
	if len(p.names) > maxPathValues {
		bad("more than 8 wildcards")
	}
	p.segs = segs
	p.exact = !p.prefix && len(p.names) == 0
	p.path = exactPath
	return p
}

// CheckPattern reports whether pattern is one Server.Route accepts (it panics on one
// that is not), for programs that read their routes from a configuration.
func CheckPattern(pattern string) (err error) {
	if pattern == "" {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	parsePattern(pattern)
	return nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// add registers route under pattern; "" is the default route.
func (rt *router) add(pattern string, route *Route) {
	if pattern == "" {
		rt.dflt = route
		return
	}
	p := parsePattern(pattern)
	e := &patEntry{route: route, pattern: pattern, method: p.method, names: p.names}
	if p.exact {
		if rt.exact == nil {
			rt.exact = make(map[string]*leaf)
		}
		l := rt.exact[p.path]
		if l == nil {
			l = new(leaf)
			rt.exact[p.path] = l
		}
		l.put(e)
		return
	}
	n := &rt.root
	for _, s := range p.segs {
		if s == "{}" {
			if n.param == nil {
				n.param = new(node)
			}
			n = n.param
			continue
		}
		n = n.lit(s)
	}
	at := &n.end
	if p.prefix {
		at = &n.rest
	}
	if *at == nil {
		*at = new(leaf)
	}
	(*at).put(e)
	rt.tree = true
}

// match finds the route serving method and path, and records the pattern and its
// wildcards' positions in m. It returns nil when no pattern matches the path, and
// &wrongMethod when some match the path but none the method. It allocates nothing.
func (rt *router) match(method, path []byte, m *pathMatch) *Route {
	m.e = nil
	mismatch := false
	if l := rt.exact[string(path)]; l != nil { // no allocation: the compiler special-cases this
		if e := l.pick(method); e != nil {
			m.e = e
			return e.route
		}
		mismatch = true
	}
	if rt.tree && len(path) > 0 && path[0] == '/' {
		if e := rt.root.matchWhole(method, path, 1, 0, m, &mismatch); e != nil {
			m.e = e
			return e.route
		}
		if e := rt.root.matchPrefix(method, path, 1, 0, m, &mismatch); e != nil {
			m.e = e
			return e.route
		}
	}
	if rt.dflt != nil {
		return rt.dflt
	}
	if mismatch {
		return &wrongMethod
	}
	return nil
}

// segEnd returns the end of the segment of path that begins at pos.
func segEnd(path []byte, pos int) int {
	for i := pos; i < len(path); i++ {
		if path[i] == '/' {
			return i
		}
	}
	return len(path)
}

// matchWhole finds a pattern ending in n's subtree that matches all of path[pos:] (pos
// follows a '/'): literal children first, then the {name} child. k wildcards are set.
func (n *node) matchWhole(method, path []byte, pos, k int, m *pathMatch, mismatch *bool) *patEntry {
	end := segEnd(path, pos)
	seg := path[pos:end]
	for i := range n.lits {
		if string(seg) == n.lits[i].seg {
			if e := n.lits[i].n.wholeAfter(method, path, end, k, m, mismatch); e != nil {
				return e
			}
			break
		}
	}
	if n.param != nil && len(seg) > 0 && k < maxPathValues {
		m.spans[k] = pathSpan{int32(pos), int32(end)}
		return n.param.wholeAfter(method, path, end, k+1, m, mismatch)
	}
	return nil
}

// wholeAfter continues matchWhole at n, whose segment ended at end.
func (n *node) wholeAfter(method, path []byte, end, k int, m *pathMatch, mismatch *bool) *patEntry {
	if end == len(path) {
		if n.end == nil {
			return nil
		}
		e := n.end.pick(method)
		if e == nil {
			*mismatch = true
		}
		return e
	}
	return n.matchWhole(method, path, end+1, k, m, mismatch)
}

// matchPrefix finds the prefix pattern for path[pos:]: the deepest in n's subtree along
// literal children first, then the {name} child, then n's own.
func (n *node) matchPrefix(method, path []byte, pos, k int, m *pathMatch, mismatch *bool) *patEntry {
	if end := segEnd(path, pos); end < len(path) {
		seg := path[pos:end]
		for i := range n.lits {
			if string(seg) == n.lits[i].seg {
				if e := n.lits[i].n.matchPrefix(method, path, end+1, k, m, mismatch); e != nil {
					return e
				}
				break
			}
		}
		if n.param != nil && len(seg) > 0 && k < maxPathValues {
			m.spans[k] = pathSpan{int32(pos), int32(end)}
			if e := n.param.matchPrefix(method, path, end+1, k+1, m, mismatch); e != nil {
				return e
			}
		}
	}
	if n.rest == nil {
		return nil
	}
	e := n.rest.pick(method)
	if e == nil {
		*mismatch = true
		return nil
	}
	if k < len(e.names) { // {name...}: the rest of the path
		m.spans[k] = pathSpan{int32(pos), int32(len(path))}
	}
	return e
}

// allow lists the methods the patterns matching path serve, for a 405's Allow header.
// Only a 405 needs it, so it may allocate.
func (rt *router) allow(path []byte) string {
	var methods []string
	add := func(l *leaf) {
		for _, e := range l.methods {
			if !slices.Contains(methods, e.method) {
				methods = append(methods, e.method)
			}
			if e.method == "GET" && !slices.Contains(methods, "HEAD") {
				methods = append(methods, "HEAD")
			}
		}
	}
	if l := rt.exact[string(path)]; l != nil {
		add(l)
	}
	if len(path) > 0 && path[0] == '/' {
		rt.root.visit(path, 1, add)
	}
	slices.Sort(methods)
	return strings.Join(methods, ", ")
}

// visit calls f with every leaf whose patterns match path[pos:], exhaustively.
func (n *node) visit(path []byte, pos int, f func(*leaf)) {
	if n.rest != nil {
		f(n.rest)
	}
	end := segEnd(path, pos)
	seg := path[pos:end]
	next := func(c *node) {
		if end == len(path) {
			if c.end != nil {
				f(c.end)
			}
			return
		}
		c.visit(path, end+1, f)
	}
	for i := range n.lits {
		if string(seg) == n.lits[i].seg {
			next(n.lits[i].n)
		}
	}
	if n.param != nil && len(seg) > 0 {
		next(n.param)
	}
}

// PathValue returns the value of the wildcard named name in the pattern of the route that
// matched r: the segment for {name}, the rest of the path for {name...} (empty, not nil,
// for "/files/" under "/files/{name...}"). It is nil when the pattern has no such
// wildcard. The value is a view of r.Path as sent, percent-encoding included
// (url.PathUnescape decodes it), valid only as long as r's other views: copy it to keep
// it. It allocates nothing.
func (r *Request) PathValue(name string) []byte {
	e := r.match.e
	if e == nil {
		return nil
	}
	for i, n := range e.names {
		if n == name {
			s := r.match.spans[i]
			return r.Path[s.start:s.end:s.end]
		}
	}
	return nil
}

// Pattern is the pattern of the route that matched r, as registered ("GET /rooms/{id}"),
// or "" for the default route or none.
func (r *Request) Pattern() string {
	if r.match.e == nil {
		return ""
	}
	return r.match.e.pattern
}
