package http2

import (
	"bufio"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
)

// TestH2TrailersEndTheStream: a response's trailers go as a HEADERS frame with
// END_STREAM after its DATA, which then does not end the stream, even when the body had
// to wait for window first; fields HTTP/2 forbids are left out, and names are lowercase.
func TestH2TrailersEndTheStream(t *testing.T) {
	body := strings.Repeat("x", 4000)
	s := startServer(t, server.Config{}, func(s *server.Server) {
		s.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			_, _ = w.WriteString(body)
			w.Trailer("Grpc-Status", "0")
			w.Trailer("Keep-Alive", "timeout=5") // connection-specific: not in HTTP/2 (§8.2.2)
		}})
		s.Upgrade(New(Config{}))
	})
	c := dial(t, s)
	cl := newH2Client(t, c, bufio.NewReader(c))
	cl.write(h2.AppendSettings([]byte(h2.ClientPreface), h2.Setting{ID: h2.SettingInitialWindowSize, Val: 0}))
	cl.write(cl.request(nil, 1, "GET", "/", nil))
	got := frames1(cl, func(f h2frame) bool { return f.Type == h2.FrameHeaders && f.StreamID == 1 })
	if head := got[len(got)-1]; head.EndStream() || head.status() != "200" {
		t.Fatalf("want the response's HEADERS, open: %s", describe(got))
	}
	cl.write(h2.AppendWindowUpdate(nil, 1, uint32(len(body))))
	got = frames1(cl, nil)
	var data strings.Builder
	for _, f := range got[:len(got)-1] {
		if f.Type == h2.FrameData && f.StreamID == 1 {
			if f.EndStream() {
				t.Fatalf("DATA ended the stream before the trailers: %s", describe(got))
			}
			data.Write(f.Data())
		}
	}
	last := got[len(got)-1]
	if data.String() != body || last.Type != h2.FrameHeaders || !last.EndStream() {
		t.Fatalf("want the body, then trailers ending the stream: %d octets, %s", data.Len(), describe(got))
	}
	if len(last.fields) != 1 || last.fields[0].Name != "grpc-status" || last.fields[0].Value != "0" {
		t.Fatalf("trailers %v", last.fields)
	}
}
