package parser

// Scans shared by the portable and the AVX2 paths (simd_amd64.go). Both take
// the whole window and an absolute position, so the AVX2 code can finish
// with one overlapping load of the window's last 32 bytes instead of a
// byte loop; TestScansAgree holds the two to the same answers.

// fieldLineGeneric recognises the common field line at w[pos] (RFC 9112
// §5): a non-empty field-name, ':', SP*, a value free of CTLs, CRLF. It
// returns the end of the name, the value's bounds with surrounding SP
// removed, and the index after the CRLF; next == 0 says the line is not of
// that form (it may still be valid, e.g. hold a HTAB, or be incomplete) and
// fieldLine must decide.
func fieldLineGeneric(w []byte, pos int) (nameEnd, vs, ve, next int) {
	i := pos
	for i < len(w) && tcharTable[w[i]] {
		i++
	}
	if i == pos || i == len(w) || w[i] != ':' {
		return 0, 0, 0, 0
	}
	nameEnd = i
	i++
	for i < len(w) && w[i] == ' ' {
		i++
	}
	if i == len(w) {
		return 0, 0, 0, 0
	}
	vs = i
	ctl := i + skipNonCTL(w[i:])
	if ctl+1 >= len(w) || w[ctl] != '\r' || w[ctl+1] != '\n' {
		return 0, 0, 0, 0
	}
	ve = ctl
	for ve > vs && w[ve-1] == ' ' {
		ve--
	}
	return nameEnd, vs, ve, ctl + 2
}

// fieldBounds locates one field line recognised by fieldLineGeneric. The
// layout (four ints) is relied on by simd_amd64.s.
type fieldBounds struct {
	nameEnd, vs, ve, next int
}

// fieldLinesGeneric recognises up to len(out) consecutive field lines with
// fieldLineGeneric, starting at w[pos]; it returns how many it recorded and
// where the first line it did not record starts. Doing a run of lines per
// call is what lets the AVX2 version keep its tables in registers and skip
// a call per line (BenchmarkParse).
func fieldLinesGeneric(w []byte, pos int, out []fieldBounds) (n, next int) {
	for n < len(out) {
		nameEnd, vs, ve, nx := fieldLineGeneric(w, pos)
		if nx == 0 {
			break
		}
		out[n] = fieldBounds{nameEnd, vs, ve, nx}
		n++
		pos = nx
	}
	return n, pos
}

// skipTargetGeneric returns the index of the first byte at or after pos
// outside targetTable, or len(w); skipTargetAVX2 is its AVX2 version.
func skipTargetGeneric(w []byte, pos int) int { return pos + skipTarget(w[pos:]) }

// skipClassGeneric returns the index of the first byte at or after pos
// outside class, or len(w).
func skipClassGeneric(w []byte, pos int, class *[256]bool) int {
	for pos < len(w) && class[w[pos]] {
		pos++
	}
	return pos
}

// nibbleTable turns a class of ASCII bytes into the two 16-entry lookups of
// the PSHUFB set-membership test (W. Muła): lo[c&15] has bit (c>>4) set for
// each member c, hi[c>>4] is 1<<(c>>4) for c < 0x80 and 0 above, so c is a
// member iff lo[c&15]&hi[c>>4] != 0. Each half is stored twice because
// VPSHUFB looks up within each 128-bit lane.
func nibbleTable(class *[256]bool) (t [64]byte) {
	for c := 0; c < 0x80; c++ {
		if class[c] {
			t[c&15] |= 1 << (c >> 4)
			t[16+c&15] |= 1 << (c >> 4)
		}
	}
	for h := 0; h < 8; h++ {
		t[32+h], t[48+h] = 1<<h, 1<<h
	}
	return t
}

// Read by simd_amd64.s.
var (
	tcharNibbles   = nibbleTable(&tcharTable)
	targetNibbles  = nibbleTable(&targetTable)
	regNameNibbles = nibbleTable(&regNameTable)
)
