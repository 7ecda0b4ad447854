package server

import (
	"fmt"
	"runtime/debug"
)

// Handler serves one HTTP request, whether it came over HTTP/1.1 or as an HTTP/2 stream.
// r and every slice it holds are views valid only until the handler returns: copy what you
// keep. A handler runs on its connection's event loop unless its Route sets UseWorkerPool,
// so by default it must not block. A handler that panics has its request answered 500,
// and the panic is logged with its stack, as under net/http.
type Handler func(w *ResponseWriter, r *Request)

// Route says how the requests one pattern matches are served (Server.Route).
type Route struct {
	// HTTP answers plain requests (and upgrades the client asked for but the route does
	// not take). Nil means the route answers plain requests with 426 if it has upgraders,
	// else 404.
	HTTP Handler
	// Upgraders are the protocols the route switches to, in the server's order of
	// preference (the order listed in a 426's Upgrade header). The client's order decides
	// which one is used.
	Upgraders []Upgrader
	// RequireUpgrade answers plain HTTP/1.1 requests with 426 Upgrade Required. It applies
	// only to HTTP/1.1: a request that arrives as an HTTP/2 stream is served by HTTP (or,
	// without an HTTP handler, answered 404), since there is nothing left to upgrade to.
	RequireUpgrade bool
	// UseWorkerPool runs HTTP on the bounded worker pool, for handlers that block, over
	// HTTP/1.1 (the connection reads nothing more until the response is back, so
	// responses stay in order) and HTTP/2 (the connection serves its other streams).
	// Only such a handler may stream its response (ResponseWriter.Flush).
	UseWorkerPool bool
}

// requiresUpgrade reports whether a plain request gets 426.
func (r *Route) requiresUpgrade() bool {
	return r.RequireUpgrade || (r.HTTP == nil && len(r.Upgraders) > 0)
}

// Route serves the requests that pattern matches with r. A pattern is "[METHOD ]/path" in
// the syntax of Go 1.22's net/http.ServeMux: "/chat" (exactly that path), "/rooms/{id}"
// (one segment, read with Request.PathValue), "/static/" or "/files/{path...}" (every path
// under it), "/docs/{$}" (only the path ending in that slash), "GET /x" (GET and HEAD
// only; other methods get 405 with Allow). The most specific pattern wins whatever the
// order of the calls: exact paths, then {name} wildcards, then prefixes (pattern.go says
// how ties are broken). The pattern "" sets the default route, for every path no pattern
// matches (without one, they get 404). Registering a pattern again replaces its route. A
// malformed pattern panics. Call before Serve.
func (s *Server) Route(pattern string, r Route) {
	rc := r
	for _, u := range r.Upgraders {
		s.addKind(u.Token())
	}
	s.extConnect = s.extConnect || hasConnectUpgrader(r.Upgraders)
	s.routes.add(pattern, &rc)
}

// routeFor finds r's route and records in r the pattern and its path values: nil when no
// route serves r's path, &wrongMethod when routes serve the path but not the method.
func (s *Server) routeFor(r *Request) *Route {
	return s.routes.match(r.Method, r.Path, &r.match)
}

// Handle serves an HTTP request, whichever protocol carried it, with its route's HTTP
// handler into w: a path without a route, or a route without an HTTP handler, gets 404
// with a body that says which, and a method the path is not served with 405 with Allow.
// The handler runs here, on the loop, whatever the route's UseWorkerPool says: a
// protocol that can answer later dispatches through HandleOffLoop, as HTTP/2 does.
// Loop only.
func (c *Conn) Handle(w *ResponseWriter, r *Request) { c.handle(c.srv.routeFor(r), w, r) }

func (c *Conn) handle(route *Route, w *ResponseWriter, r *Request) {
	r.conn, r.peer = c, c
	if route == nil {
		route = &noRoute
	}
	c.srv.handle(route, w, r)
}

func (s *Server) handle(route *Route, w *ResponseWriter, r *Request) {
	w.Reset()
	switch {
	case route == &noRoute:
		w.text(404, "no route for this path")
	case route == &wrongMethod:
		w.text(405, "this path is not served with the method "+string(r.Method)+" (Allow lists those it is)")
		w.Header("Allow", s.routes.allow(r.Path))
	case route.HTTP == nil:
		w.text(404, "this path serves only protocol upgrades over HTTP/1.1 (Upgrade), not plain requests")
	default:
		s.callHandler(route.HTTP, w, r)
	}
}

// callHandler runs h. A panic is answered 500 (or cuts a streamed response short) and
// logged (rate-limited, with its stack), as net/http does, instead of ending the loop's
// goroutine, and with it the process, or a worker's job, whose answer would never come
// back to its connection.
func (s *Server) callHandler(h Handler, w *ResponseWriter, r *Request) {
	defer func() {
		if p := recover(); p != nil {
			w.fail("internal error: the handler panicked")
			outcome := "answered 500"
			if w.Broken() {
				outcome = "its streamed response cut short"
			}
			s.logPanic("handler", outcome, p, r)
		}
	}()
	h(w, r)
}

// callDecision runs an upgrade decision off the loop (UpgradeOffLoop, AuthorizeOffLoop);
// a panic is refused with 500 and logged, as a handler's is.
func (s *Server) callDecision(decide UpgradeDecision, r *Request, hdr []byte) (p Protocol, out []byte, rej *Rejection) {
	defer func() {
		if v := recover(); v != nil {
			p, out, rej = nil, hdr, &Rejection{Status: 500, Kind: "panic", Reason: "internal error: the upgrade decision panicked"}
			s.logPanic("upgrade decision", "answered 500", v, r)
		}
	}()
	return decide(r, hdr)
}

// logPanic logs, rate-limited (Config.LogRate) and with its stack, what panicked while
// serving r.
func (s *Server) logPanic(what, outcome string, v any, r *Request) {
	if log := s.cfg.Logger; log != nil && s.logs.allow(s.clock.now()/1e9, s.cfg.LogRate, log) {
		log.Error("switchyard: "+what+" panicked; "+outcome, "panic", fmt.Sprint(v),
			"path", string(r.Path), "stack", string(debug.Stack()))
	}
}
