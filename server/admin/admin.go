// Package admin serves a switchyard server's operational endpoints on a separate listener:
// Prometheus metrics (/metrics), Go's profiler (/debug/pprof/) and a health check
// (/healthz). It lives apart from package server so that net/http and the Prometheus
// client stay out of the server's path.
package admin

import (
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/switchyard-dev/switchyard/server"
)

// Handler returns the admin endpoints for srv, and for more servers of the same process
// (`switchyard serve`'s TLS listener beside its cleartext one), whose counters are added
// to srv's.
func Handler(srv *server.Server, more ...*server.Server) http.Handler {
	return HandlerWith(nil, srv, more...)
}

// HandlerWith is Handler with more metrics: extra collectors (such as NewRoomsCollector).
func HandlerWith(extra []prometheus.Collector, srv *server.Server, more ...*server.Server) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(extra...)
	reg.MustRegister(NewCollector(srv, more...),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if srv.Draining() {
			http.Error(w, "shutting down\n", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
