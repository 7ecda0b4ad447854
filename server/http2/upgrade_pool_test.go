package http2

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

// The request that comes with an h2c upgrade (stream 1, RFC 7540 §3.2) is served as any
// stream's: a UseWorkerPool route's handler runs on the worker pool, and a NetHTTP route
// answers it (it refused to run on the loop with a 500), for curl and nghttp alike; the
// connection's next stream too.
func TestUpgradeRequestOnWorkerPoolRoute(t *testing.T) {
	s := startServer(t, server.Config{Logger: discard}, func(s *server.Server) {
		s.Route("/api", server.NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s", r.Method, r.Proto)
		})))
		s.Upgrade(New(Config{}))
	})
	url := "http://" + s.Addr().String() + "/api"
	for _, tc := range []struct {
		tool string
		args []string
		want string
	}{
		{"curl", []string{"-sS", "-v", "--max-time", "10", "--http2", url, "--next", "--http2", url}, "GET HTTP/2.0GET HTTP/2.0"},
		{"nghttp", []string{"-t", "10", "-u", url}, "GET HTTP/2.0"},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			out, errOut := runTool(t, tc.tool, tc.args...)
			if string(out) != tc.want {
				t.Fatalf("body %q, want %q\n%s", out, tc.want, errOut)
			}
			if tc.tool == "curl" && !strings.Contains(string(errOut), "HTTP/1.1 101") {
				t.Fatalf("no 101 switch:\n%s", errOut)
			}
		})
	}
}
