package http2

import (
	"testing"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
)

// A request whose host field names another entity than its :authority is malformed
// (RFC 9113 §8.3.1): RST_STREAM PROTOCOL_ERROR, and the connection serves on. Either one
// alone, or both alike whatever their case, is served, with Host from :authority.
func TestH2HostMustMatchAuthority(t *testing.T) {
	s := startServer(t, server.Config{Logger: discard}, func(s *server.Server) {
		s.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			_, _ = w.Write(r.Host)
		}})
		s.Upgrade(New(Config{}))
	})
	cases := []struct {
		name   string
		fields []string // after :method, :scheme and :path
		host   string   // the Request.Host served; "" for RST_STREAM PROTOCOL_ERROR
	}{
		{"host differs", []string{":authority", "a.example", "host", "b.example"}, ""},
		{"host differs in its port", []string{":authority", "a.example:8080", "host", "a.example:9090"}, ""},
		{"a second host differs", []string{":authority", "a.example", "host", "a.example", "host", "b.example"}, ""},
		{":authority alone", []string{":authority", "a.example"}, "a.example"},
		{"host alone", []string{"host", "b.example"}, "b.example"},
		{"both equal", []string{":authority", "a.example", "host", "a.example"}, "a.example"},
		{"both equal but for case", []string{":authority", "A.Example", "host", "a.EXAMPLE"}, "A.Example"},
	}
	c := dial(t, s)
	cl := newH2Client(t, c, bufioReader(c))
	cl.write(clientPreface())
	for i, tc := range cases {
		id := uint32(1 + 2*i)
		fields := append([]string{":method", "GET", ":scheme", "http", ":path", "/"}, tc.fields...)
		cl.write(h2.AppendHeaders(nil, id, cl.headers(fields...), true, 0))
		ev := cl.readUntil(id)
		r := ev.streams[id]
		switch {
		case ev.closed || ev.goAway:
			t.Fatalf("%s: the connection ended: %+v", tc.name, ev)
		case tc.host == "":
			if r == nil || !r.isReset || r.rst != h2.ErrCodeProtocol || r.status != "" {
				t.Errorf("%s: stream %d %+v, want RST_STREAM PROTOCOL_ERROR", tc.name, id, r)
			}
		case r == nil || r.status != "200" || string(r.body) != tc.host:
			t.Errorf("%s: stream %d %+v %q, want 200 %q", tc.name, id, r, r.body, tc.host)
		}
	}
}
