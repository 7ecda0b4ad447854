package parser

import (
	"math/rand/v2"
	"testing"
)

// fieldLinesAVX2 classifies the window in chunks of 32 bytes from pos, so a
// line may end in any lane of a chunk, start up to two bytes into the next,
// or run over many. Runs of well-formed lines (RFC 9112 §5) of every length
// from short to several chunks, now and then broken by a byte the rules
// refuse, must give the portable scan's answers from every start position.
func TestFieldLinesAcrossChunks(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this machine or build")
	}
	bad := []byte{0x00, '\t', '\r', '\n', 0x7f, ' ', ':', '"'}
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 300; iter++ {
		var w []byte
		for len(w) < 200+rng.IntN(200) {
			name := make([]byte, 1+rng.IntN(40))
			for i := range name {
				name[i] = "abcXYZ-_09!~"[rng.IntN(12)]
			}
			value := make([]byte, rng.IntN(100))
			for i := range value {
				value[i] = "abc ,;=/\x80\xff"[rng.IntN(10)]
			}
			line := append(append(append(name, ':'), []byte(" ")[:rng.IntN(2)]...), value...)
			line = append(line, "\r\n"...)
			if rng.IntN(8) == 0 {
				line[rng.IntN(len(line))] = bad[rng.IntN(len(bad))]
			}
			w = append(w, line...)
		}
		for pos := 0; pos <= len(w); pos++ {
			checkLines(t, w, pos)
		}
	}
}
