package server

// Handler serves one HTTP request, whether it came over HTTP/1.1 or as an HTTP/2 stream.
// r and every slice it holds are views valid only until the handler returns: copy what you
// keep. A handler runs on its connection's event loop unless its Route sets UseWorkerPool,
// so by default it must not block.
type Handler func(w *ResponseWriter, r *Request)

// Route says how requests for one path are served.
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
	// UseWorkerPool runs HTTP on the bounded worker pool, for handlers that block. Only
	// HTTP/1.1 honours it for now: HTTP/2 streams run their handler on the event loop.
	UseWorkerPool bool
}

// requiresUpgrade reports whether a plain request gets 426.
func (r *Route) requiresUpgrade() bool {
	return r.RequireUpgrade || (r.HTTP == nil && len(r.Upgraders) > 0)
}
