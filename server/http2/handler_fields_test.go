package http2

import (
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

// Connection-specific fields a handler sets (HTTP/1.1 habits: Connection, Keep-Alive,
// Proxy-Connection, Transfer-Encoding, Upgrade) are left out of an HTTP/2 response,
// which would otherwise be malformed (RFC 9113 §8.2.2); the handler's other fields go
// through.
func TestH2ResponseDropsConnectionSpecificFields(t *testing.T) {
	cl := h2DialWith(t, server.Config{}, Config{}, func(s *server.Server) {
		s.Route("/habits", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			for _, f := range [][2]string{{"Connection", "close"}, {"Keep-Alive", "timeout=5"}, {"Proxy-Connection", "keep-alive"},
				{"Transfer-Encoding", "chunked"}, {"Upgrade", "foo"}, {"X-Kept", "yes"}} {
				w.Header(f[0], f[1])
			}
			_, _ = w.WriteString("body")
		}})
	})
	cl.write(cl.request(nil, 1, "GET", "/habits", nil))
	r := cl.readUntil(1).streams[1]
	if r == nil || r.status != "200" || string(r.body) != "body" {
		t.Fatalf("response %+v", r)
	}
	for _, name := range []string{"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"} {
		if v, ok := r.fields[name]; ok {
			t.Errorf("%s: %q sent over HTTP/2", name, v)
		}
	}
	if r.fields["x-kept"] != "yes" {
		t.Errorf("x-kept: %q, want yes", r.fields["x-kept"])
	}
}
