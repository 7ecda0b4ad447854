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
				if got := ctlMask(x) != 0; got != wantCTL {
					t.Fatalf("ctlMask(% x) != 0: = %v, want %v", w, got, wantCTL)
				}
				if got := nonTargetMask(x) != 0; got != wantNonTarget {
					t.Fatalf("nonTargetMask(% x) != 0: = %v, want %v", w, got, wantNonTarget)
				}
			}
		}
	}
}

// skipNonCTL must stop exactly at the first CTL wherever it is, whatever
// follows it (false positives of the mask sit above the first true one).
func TestSkipNonCTLAndTarget(t *testing.T) {
	for n := 0; n <= 40; n++ {
		for at := 0; at <= n; at++ {
			for _, bad := range []byte{0x00, '\t', '\r', '\n', 0x1f, 0x7f} {
				v := make([]byte, n)
				for i := range v {
					v[i] = "a\x80 ~!#/?"[(i+n)%8]
				}
				want := n
				if at < n {
					v[at] = bad
					want = at
					for i := at + 1; i < n; i++ { // junk after the first CTL
						v[i] = []byte{0x00, 0x20, 0x7f, 0x1f}[i%4]
					}
				}
				if got := skipNonCTL(v); got != want {
					t.Fatalf("skipNonCTL(%q) = %d, want %d", v, got, want)
				}
				wantTarget := 0
				for wantTarget < n && targetTable[v[wantTarget]] {
					wantTarget++
				}
				if got := skipTarget(v); got != wantTarget {
					t.Fatalf("skipTarget(%q) = %d, want %d", v, got, wantTarget)
				}
				if got := skipTarget(v[min(n, 1):]); got != max(wantTarget-1, 0) && n > 0 && targetTable[v[0]] {
					t.Fatalf("skipTarget(%q) = %d", v[1:], got)
				}
			}
		}
	}
}
