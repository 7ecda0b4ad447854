package http2

import (
	"bytes"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/drive"
	"golang.org/x/net/http2/hpack"
)

// h2Fake is an HTTP/2 connection driven without a socket (drive.Conn), past its preface,
// with the connection window opened wide, plus the header block of a GET / (with extra
// fields after its own) that is fully indexed in the server's HPACK table (what a client
// repeating a request sends, RFC 7541 §2.3).
type h2Fake struct {
	c       drive.Conn
	closing bool // the server closed the connection
	block   []byte
	next    uint32
	req     []byte
}

func newH2Fake(tb testing.TB, setup func(*server.Server), extra ...hpack.HeaderField) *h2Fake {
	srv := server.New(server.Config{Logger: discard})
	setup(srv)
	srv.Upgrade(New(Config{}))
	c := drive.New(srv)
	var ebuf bytes.Buffer
	enc := hpack.NewEncoder(&ebuf)
	encode := func() []byte {
		ebuf.Reset()
		for _, f := range []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"},
			{Name: ":path", Value: "/"}, {Name: ":authority", Value: "bench.example"}, {Name: "user-agent", Value: "h2load nghttp2/1.52.0"}} {
			_ = enc.WriteField(f)
		}
		for _, f := range extra {
			_ = enc.WriteField(f)
		}
		return append([]byte(nil), ebuf.Bytes()...)
	}
	in := clientPreface()
	in = h2.AppendSettingsAck(in) // as h2load does: until then the server watches for it
	in = h2.AppendWindowUpdate(in, 0, h2.MaxWindowSize-65535)
	in = h2.AppendHeaders(in, 1, encode(), true, 0) // first: literals enter the table
	if c.Feed(in) {
		tb.Fatal("the server closed the connection during setup")
	}
	hf := &h2Fake{c: c, block: encode(), next: 3}
	hf.req = h2.AppendHeaders(nil, 0, hf.block, true, 0)
	return hf
}

// request feeds one request on the next stream as one read.
func (hf *h2Fake) request() {
	id := hf.next
	hf.next += 2
	hf.req[5], hf.req[6], hf.req[7], hf.req[8] = byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
	hf.closing = hf.c.Feed(hf.req)
}

// A repeated HTTP/2 request, served on the loop from HEADERS to the response's DATA,
// allocates nothing once HPACK's tables hold its fields: with no cookie, one, or cookies
// split into several fields (RFC 9113 §8.2.3), which the handler gets joined.
func TestH2RequestAllocatesNothing(t *testing.T) {
	cookie := func(v string) hpack.HeaderField { return hpack.HeaderField{Name: "cookie", Value: v} }
	cases := []struct {
		name  string
		extra []hpack.HeaderField
		want  string // the handler's r.Get("cookie")
	}{
		{"no cookie", nil, ""},
		{"one cookie field", []hpack.HeaderField{cookie("a=1; b=2")}, "a=1; b=2"},
		{"three cookie fields", []hpack.HeaderField{cookie("a=1"), {Name: "accept", Value: "*/*"}, cookie("b=2"), cookie("c=3")}, "a=1; b=2; c=3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte("hello")
			wrong := 0
			hf := newH2Fake(t, func(s *server.Server) {
				s.Route("", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
					if string(r.Get("cookie")) != tc.want {
						wrong++
					}
					_, _ = w.Write(body)
				}})
			}, tc.extra...)
			before := hf.c.Written()
			allocs := testing.AllocsPerRun(500, hf.request)
			if hf.closing {
				t.Fatal("connection closed")
			}
			if hf.c.Written() == before {
				t.Fatal("no response written")
			}
			if wrong > 0 {
				t.Fatalf("the handler's cookie was not %q in %d requests", tc.want, wrong)
			}
			if allocs != 0 {
				t.Fatalf("%v allocations per request, want 0", allocs)
			}
		})
	}
}

func BenchmarkH2Request(b *testing.B) {
	hf := newH2Fake(b, helloRoutes)
	b.ReportAllocs()
	b.SetBytes(int64(len(hf.req)))
	for b.Loop() {
		hf.request()
	}
	if hf.closing {
		b.Fatal("connection closed")
	}
}

// Ten requests in one read (as h2load -m 10 sends them), answered in one write.
func BenchmarkH2Request10PerRead(b *testing.B) {
	hf := newH2Fake(b, helloRoutes)
	in := make([]byte, 0, 10*len(hf.req))
	b.ReportAllocs()
	for b.Loop() {
		in = in[:0]
		for range 10 {
			id := hf.next
			hf.next += 2
			in = h2.AppendHeaders(in, id, hf.block, true, 0)
		}
		hf.closing = hf.c.Feed(in)
	}
	if hf.closing {
		b.Fatal("connection closed")
	}
}
