package parser

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/switchyard-dev/switchyard/parser/parsertest"
)

// The AVX2 scans must give the portable scans' answers on every input: random
// windows built from bytes at the class edges, every start position, and the
// stopping byte in every lane, tail block included.
func TestScansAgree(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this machine or build")
	}
	alphabet := []byte("aZ09-_!~:;\"(),/@[]{}\\ \t\r\n\x00\x1f\x20\x7e\x7f\x80\xff#?%=.$&'*+`^|")
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 1000; iter++ {
		n := 32 + rng.IntN(100)
		w := make([]byte, n)
		// Mostly class members, so runs are long enough to cross blocks.
		for i := range w {
			if rng.IntN(16) == 0 {
				w[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				const filler = "Accept-Encoding: gzip /x?y=1  \r\nK:\t1 \r\n"
				w[i] = filler[rng.IntN(len(filler))]
			}
		}
		for pos := 0; pos <= n; pos++ {
			checkLines(t, w, pos)
			if g, a := skipTargetGeneric(w, pos), skipTargetAVX2(w, pos); g != a {
				t.Fatalf("skipTarget(%q, %d): AVX2 %d, generic %d", w, pos, a, g)
			}
			if g, a := skipClassGeneric(w, pos, &regNameTable), skipClassAVX2(w, pos, &regNameNibbles); g != a {
				t.Fatalf("skipClass(%q, %d, regName): AVX2 %d, generic %d", w, pos, a, g)
			}
		}
	}
}

// checkLines compares the two fieldLines on w from pos, with room for every
// line and for fewer.
func checkLines(t *testing.T, w []byte, pos int) {
	t.Helper()
	for _, m := range []int{0, 1, 2, 16} {
		var g, a [16]fieldBounds
		gn, gnext := fieldLinesGeneric(w, pos, g[:m])
		an, anext := fieldLinesAVX2(w, pos, a[:m])
		if gn != an || gnext != anext || g != a {
			t.Fatalf("fieldLines(%q, %d, %d): AVX2 %d %d %v, generic %d %d %v", w, pos, m, an, anext, a[:an], gn, gnext, g[:gn])
		}
	}
}

// Every byte value, in every lane of a block and of the tail, must be
// classified as the tables say.
func TestScansEveryByte(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this machine or build")
	}
	for _, n := range []int{32, 77} { // one whole block; two and a tail
		for lane := 0; lane < n; lane++ {
			for c := 0; c < 256; c++ {
				w := make([]byte, n)
				for i := range w {
					w[i] = 'a'
				}
				w[lane] = byte(c)
				if g, a := skipTargetGeneric(w, 0), skipTargetAVX2(w, 0); g != a {
					t.Fatalf("skipTarget byte %#x lane %d of %d: AVX2 %d, generic %d", c, lane, n, a, g)
				}
				if g, a := skipClassGeneric(w, 0, &regNameTable), skipClassAVX2(w, 0, &regNameNibbles); g != a {
					t.Fatalf("skipClass regName byte %#x lane %d of %d: AVX2 %d, generic %d", c, lane, n, a, g)
				}
				w[n-2], w[n-1] = '\r', '\n'
				checkLines(t, w, 0)
				w[0] = ':' // now the value scan meets the byte
				checkLines(t, w, 0)
				w[0] = 'a'
				w[min(lane+1, n-3)] = ':'
				checkLines(t, w, 0)
				// A value with OWS at both ends holding the byte.
				copy(w, "a: ")
				w[n-3] = ' '
				w[max(lane, 3)] = byte(c)
				checkLines(t, w, 0)
			}
		}
	}
}

// FuzzFieldLines holds the AVX2 field-line and target scans to the portable
// ones on arbitrary windows and start positions.
func FuzzFieldLines(f *testing.F) {
	f.Add(parsertest.Pico703, uint16(76))
	f.Add(parsertest.ChromeWebSocket, uint16(20))
	f.Add([]byte("X-A:  b \t c  \r\nX-B:\r\nX-C: d\r\n\r\n................................"), uint16(0))
	f.Fuzz(func(t *testing.T, w []byte, pos uint16) {
		if !useAVX2 || len(w) < 32 {
			return
		}
		p := int(pos) % (len(w) + 1)
		checkLines(t, w, p)
		if g, a := skipTargetGeneric(w, p), skipTargetAVX2(w, p); g != a {
			t.Fatalf("skipTarget(%q, %d): AVX2 %d, generic %d", w, p, a, g)
		}
		if g, a := skipClassGeneric(w, p, &regNameTable), skipClassAVX2(w, p, &regNameNibbles); g != a {
			t.Fatalf("skipClass(%q, %d, regName): AVX2 %d, generic %d", w, p, a, g)
		}
	})
}

// foldEqLong must agree with foldEq: on every known name of 8 bytes or more
// (and keep-alive) in both cases, with each byte in turn changed to each
// value, and one byte shorter or longer.
func TestFoldEqLongMatchesFoldEq(t *testing.T) {
	lowers := []string{"keep-alive"}
	for _, n := range headerNames {
		if len(n) >= 8 {
			lowers = append(lowers, string(bytes.ToLower([]byte(n))))
		}
	}
	for _, lower := range lowers {
		for _, base := range []string{lower, string(bytes.ToUpper([]byte(lower)))} {
			for i := 0; i < len(base); i++ {
				for c := 0; c < 256; c++ {
					b := []byte(base)
					b[i] = byte(c)
					if got, want := foldEqLong(b, lower), foldEq(b, lower); got != want {
						t.Fatalf("foldEqLong(%q, %q) = %v, foldEq says %v", b, lower, got, want)
					}
				}
			}
			if foldEqLong([]byte(base[1:]), lower) || foldEqLong([]byte(base+"-"), lower) {
				t.Fatalf("foldEqLong(%q, %q) matched a name of another length", base, lower)
			}
		}
	}
}
