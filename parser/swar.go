package parser

import (
	"encoding/binary"
	"math/bits"
)

// SWAR ("SIMD within a register") checks of eight bytes at once. Header values
// make up most of a request head; validating them a word at a time is what
// lets the parser keep up without assembly (BenchmarkParse). The tricks are
// the classic bit hacks (hasless / haszero). A mask may also flag lanes above
// a true match, because borrows run upwards, but never below one: so "is
// there a match" is exact, and so is the lowest flagged lane, which gives the
// position of the first offending byte with one TrailingZeros64.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func load64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// ctlMask has the high bit set in (at least) the lanes of x holding a byte
// < 0x20 or == 0x7F: a CTL, which also covers the CR and LF that end a field
// value; it is zero when there is none. Bytes >= 0x80 (obs-text) are fine.
func ctlMask(x uint64) uint64 {
	lt := (x - ones*0x20) &^ x
	y := x ^ (ones * 0x7f)
	del := (y - ones) &^ y
	return (lt | del) & highs
}

// byteMask has the high bit set in (at least) the lanes of x equal to c,
// the lowest of them exact (haszero on x XOR c).
func byteMask(x uint64, c byte) uint64 {
	y := x ^ ones*uint64(c)
	return (y - ones) &^ y & highs
}

// nonTargetMask flags the lanes of x outside targetTable: below 0x21, 0x7F
// and up, or '#'. Like ctlMask, its lowest flagged lane is exact.
func nonTargetMask(x uint64) uint64 {
	lt := (x - ones*0x21) &^ x
	y := x ^ (ones * 0x7f)
	del := (y - ones) &^ y
	z := x ^ (ones * '#')
	hash := (z - ones) &^ z
	return (lt | x | del | hash) & highs
}

// skipTarget returns the length of the longest prefix of v in targetTable.
func skipTarget(v []byte) int {
	n := len(v)
	for len(v) >= 8 {
		if m := nonTargetMask(load64(v)); m != 0 {
			return n - len(v) + bits.TrailingZeros64(m)>>3
		}
		v = v[8:]
	}
	for len(v) > 0 && targetTable[v[0]] {
		v = v[1:]
	}
	return n - len(v)
}

// skipNonCTL returns the length of the longest prefix of v without a CTL
// (see ctlMask). The lowest flagged lane of a mask is always a true match
// (borrows only run upwards from one), so the first CTL's position is read
// off the mask instead of re-scanning the word.
func skipNonCTL(v []byte) int {
	n := len(v)
	for len(v) >= 16 {
		m1, m2 := ctlMask(load64(v)), ctlMask(load64(v[8:]))
		if m1|m2 != 0 {
			if m1 != 0 {
				return n - len(v) + bits.TrailingZeros64(m1)>>3
			}
			return n - len(v) + 8 + bits.TrailingZeros64(m2)>>3
		}
		v = v[16:]
	}
	if len(v) >= 8 {
		if m := ctlMask(load64(v)); m != 0 {
			return n - len(v) + bits.TrailingZeros64(m)>>3
		}
		v = v[8:]
	}
	for len(v) > 0 && v[0] >= 0x20 && v[0] != 0x7f {
		v = v[1:]
	}
	return n - len(v)
}
