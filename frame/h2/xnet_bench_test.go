//go:build xnetcmp

// The comparison with golang.org/x/net/http2's Framer, which justifies
// this package's own decoder (see doc.go). It needs golang.org/x/text,
// which the main go.sum lacks, so it runs with a test-only module file:
//
//	go test -tags xnetcmp -modfile=frame/h2/testdata/xnetcmp.mod \
//	    -run XNet -bench 'ReadFrameMixed|XNet' ./frame/h2/
//
// Once the main go.sum covers golang.org/x/net/http2, drop the tag and the
// module file.

package h2

import (
	"bytes"
	"io"
	"testing"

	"golang.org/x/net/http2"
)

func xnetDecodeStream(fr *http2.Framer, r *bytes.Reader, stream []byte) int {
	r.Reset(stream)
	frames := 0
	for {
		f, err := fr.ReadFrame()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			panic(err)
		}
		_ = f
		frames++
	}
}

// Both decoders must see the same frames, or the benchmarks compare
// different work.
func TestXNetSeesSameFrames(t *testing.T) {
	stream := mixedStream()
	r := bytes.NewReader(nil)
	fr := http2.NewFramer(nil, r)
	var d Decoder
	if a, b := xnetDecodeStream(fr, r, stream), decodeStream(&d, stream); a != b {
		t.Fatalf("x/net read %d frames, ours %d", a, b)
	}
}

func BenchmarkXNetFramerMixed(b *testing.B) {
	stream := mixedStream()
	r := bytes.NewReader(nil)
	fr := http2.NewFramer(nil, r)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		xnetDecodeStream(fr, r, stream)
	}
}

func BenchmarkXNetFramerMixedReuseFrames(b *testing.B) {
	stream := mixedStream()
	r := bytes.NewReader(nil)
	fr := http2.NewFramer(nil, r)
	fr.SetReuseFrames()
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		xnetDecodeStream(fr, r, stream)
	}
}
