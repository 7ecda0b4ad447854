package headerlines

import (
	"reflect"
	"testing"
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
		{"bare LF is not a line end", "A: 1\nB: 2\r\n", []string{"A", "1\nB: 2"}},
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
