//go:build !amd64 || purego

package parser

const useAVX2 = false

func fieldLinesAVX2(w []byte, pos int, out []fieldBounds) (n, next int) {
	return fieldLinesGeneric(w, pos, out)
}

func skipTargetAVX2(w []byte, pos int) int { return skipTargetGeneric(w, pos) }

// skipClassAVX2 is only called when useAVX2 is set, never in this build.
func skipClassAVX2(w []byte, pos int, tab *[64]byte) int {
	panic("parser: skipClassAVX2 without AVX2")
}
