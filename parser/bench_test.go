package parser

import (
	"testing"

	"github.com/switchyard-dev/switchyard/parser/parsertest"
)

var benchRequests = []struct {
	name string
	in   []byte
}{
	{"pico703", parsertest.Pico703},
	{"chromeWebSocket", parsertest.ChromeWebSocket},
	{"curlH2Upgrade", parsertest.CurlH2Upgrade},
}

func BenchmarkParse(b *testing.B) {
	for _, br := range benchRequests {
		b.Run(br.name, func(b *testing.B) {
			var p Parser
			var req Request
			b.ReportAllocs()
			b.SetBytes(int64(len(br.in)))
			for b.Loop() {
				if _, err := p.Parse(br.in, &req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseByteAtATime is the worst case of arrival: one byte per read.
func BenchmarkParseByteAtATime(b *testing.B) {
	in := parsertest.Pico703
	var p Parser
	var req Request
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		for k := 1; k <= len(in); k++ {
			if _, err := p.Parse(in[:k], &req); err != nil && err != ErrIncomplete {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkHeaderTokens(b *testing.B) {
	var p Parser
	var req Request
	if _, err := p.Parse(parsertest.ChromeWebSocket, &req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !req.HasToken(HeaderConnection, "upgrade") || !req.HasToken(HeaderUpgrade, "websocket") {
			b.Fatal("token not found")
		}
	}
}
