package parser

import "encoding/binary"

// SWAR ("SIMD within a register") checks of eight bytes at once. Header values
// make up most of a request head; validating them a word at a time and
// dropping to the byte tables only for the word that holds the line end is
// what lets the parser run at a few hundred picoseconds per byte without
// assembly. The tricks are the classic bit hacks (hasless / haszero), which
// are exact about whether some byte matches, not about which one, so callers
// re-examine a flagged word byte by byte.

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

// hasCTL reports whether some byte of x is a CTL (see ctlMask).
func hasCTL(x uint64) bool { return ctlMask(x) != 0 }

// hasNonTarget reports whether some byte of x is outside targetTable: below
// 0x21, 0x7F and up, or '#'.
func hasNonTarget(x uint64) bool {
	lt := (x - ones*0x21) &^ x
	y := x ^ (ones * 0x7f)
	del := (y - ones) &^ y
	z := x ^ (ones * '#')
	hash := (z - ones) &^ z
	return (lt|x|del|hash)&highs != 0
}
