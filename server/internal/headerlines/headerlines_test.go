package headerlines

import (
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/parser"
)

func TestEach(t *testing.T) {
	tests := []struct {
		name, block string
		want        []string // name, value, name, value, …
	}{
		{"empty", "", nil},
		{"one line", "Sec-WebSocket-Version: 13\r\n", []string{"Sec-WebSocket-Version", "13"}},
		{"last line without CRLF", "A: 1\r\nB: 2", []string{"A", "1", "B", "2"}},
		{"spaces and tabs trimmed", "A \t:\t x y \r\n", []string{"A", "x y"}},
		{"empty value", "A:\r\n", []string{"A", ""}},
		{"colon in the value", "Location: http://h:1/\r\n", []string{"Location", "http://h:1/"}},
		{"line without a colon skipped", "junk\r\nA: 1\r\n\r\n", []string{"A", "1"}},
		{"a bare LF in a value drops its line", "A: 1\nB: 2\r\nC: 3\r\n", []string{"C", "3"}},
		{"a NUL or DEL in a value drops its line", "A: \x00\r\nB: \x7f\r\nC: 3\r\n", []string{"C", "3"}},
		{"a bare CR in a value drops its line", "A: 1\rB: 2\r\nC: 3", []string{"C", "3"}},
		{"HTAB and obs-text stay in a value", "A: x\ty\xe9\r\n", []string{"A", "x\ty\xe9"}},
		{"a name that is not a token drops its line", "Bad Name: 1\r\nB(: 2\r\n: 3\r\nC: 3\r\n", []string{"C", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			Each(tt.block, func(name, value string) { got = append(got, name, value) })
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("string block: got %q, want %q", got, tt.want)
			}
			var gotBytes []string
			Each([]byte(tt.block), func(name, value []byte) { gotBytes = append(gotBytes, string(name), string(value)) })
			if !reflect.DeepEqual(gotBytes, tt.want) {
				t.Errorf("byte block: got %q, want %q", gotBytes, tt.want)
			}
		})
	}
}

func TestEachAllocatesNothing(t *testing.T) {
	block := []byte("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n")
	n := 0
	if allocs := testing.AllocsPerRun(100, func() {
		Each(block, func(name, value []byte) { n += len(name) + len(value) })
	}); allocs != 0 {
		t.Errorf("Each allocated %.1f times per block", allocs)
	}
	if n == 0 {
		t.Fatal("Each found no field")
	}
}

func TestAppend(t *testing.T) {
	tests := []struct{ name, block, want string }{
		{"empty", "", ""},
		{"lines as they were", "Sec-WebSocket-Accept: abc=\r\nX-A: 1\r\n", "Sec-WebSocket-Accept: abc=\r\nX-A: 1\r\n"},
		{"spacing made canonical, last CRLF added", "X-A:1\r\nX-B :\t2 ", "X-A: 1\r\nX-B: 2\r\n"},
		{"no line split by a bare LF", "X-A: 1\nX-Evil: 1\r\nX-B: 2\r\n", "X-B: 2\r\n"},
		{"framing fields left to the server", "content-length: 5\r\nTransfer-Encoding: chunked\r\nCONNECTION: close\r\nX-B: 2\r\n", "X-B: 2\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Append([]byte("HEAD\r\n"), tt.block)); got != "HEAD\r\n"+tt.want {
				t.Errorf("string block: got %q, want %q", got, "HEAD\r\n"+tt.want)
			}
			if got := string(Append(nil, []byte(tt.block))); got != tt.want {
				t.Errorf("byte block: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAppendAllocatesNothing(t *testing.T) {
	block := "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
	dst := make([]byte, 0, 256)
	if allocs := testing.AllocsPerRun(100, func() { dst = Append(dst[:0], block) }); allocs != 0 {
		t.Errorf("Append allocated %.1f times per block", allocs)
	}
	if string(dst) != block {
		t.Fatalf("Append wrote %q", dst)
	}
}

// FuzzAppend: whatever an upgrader hands the server, what Append writes is whole header
// lines, each a valid field, that read back as the same fields.
func FuzzAppend(f *testing.F) {
	f.Add("Sec-WebSocket-Accept: abc=\r\nX-A:1\r\n")
	f.Add("X-A: 1\nX-Evil: 1\r\nContent-Length: 5\r\n\r\nbody")
	f.Add("A: \x00\r\n: x\r\nB \t: \t\r")
	f.Fuzz(func(t *testing.T, block string) {
		out := string(Append(nil, block))
		var again []string
		Each(out, func(name, value string) { again = append(again, name, value) })
		var lines int
		for rest := out; rest != ""; lines++ {
			line, tail, ok := strings.Cut(rest, "\r\n")
			if !ok {
				t.Fatalf("output %q does not end in CRLF", out)
			}
			name, value, ok := strings.Cut(line, ": ")
			if !ok || !ValidName(name) || !ValidValue(value) || Framing(name) || value != parser.TrimOWS(value) {
				t.Fatalf("line %q of %q is not a field Append may write", line, out)
			}
			rest = tail
		}
		if len(again) != 2*lines {
			t.Fatalf("%q read back as %q", out, again)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	block := []byte("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n")
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(block)))
	for b.Loop() {
		dst = Append(dst[:0], block)
	}
}
