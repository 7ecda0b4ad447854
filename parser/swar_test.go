package parser

import (
	"encoding/binary"
	"testing"
)

// The SWAR checks must agree with the byte tables on every byte value in
// every lane, including next to bytes that cause borrows.
func TestSWARMatchesTables(t *testing.T) {
	var w [8]byte
	for lane := 0; lane < 8; lane++ {
		for _, fill := range []byte{'a', 0x00, 0x1f, 0x7f, 0x80, 0xff, ' '} {
			for c := 0; c < 256; c++ {
				for i := range w {
					w[i] = fill
				}
				w[lane] = byte(c)
				x := binary.LittleEndian.Uint64(w[:])
				wantCTL, wantNonTarget := false, false
				for _, b := range w {
					wantCTL = wantCTL || (b < 0x20 || b == 0x7f)
					wantNonTarget = wantNonTarget || !targetTable[b]
				}
				if got := hasCTL(x); got != wantCTL {
					t.Fatalf("hasCTL(% x) = %v, want %v", w, got, wantCTL)
				}
				if got := hasNonTarget(x); got != wantNonTarget {
					t.Fatalf("hasNonTarget(% x) = %v, want %v", w, got, wantNonTarget)
				}
			}
		}
	}
}
