//go:build amd64 && !purego

package parser

import "golang.org/x/sys/cpu"

// useAVX2 selects the AVX2 scans of simd_amd64.s. They read 32 bytes per
// step instead of SWAR's 8 (or the tables' 1), and walk a run of field lines
// per call: with them a Parse of parsertest.Pico703 takes ~2,490
// instructions instead of ~5,600, against ~14,900 for fasthttp's
// RequestHeader.Read (callgrind on BenchmarkParse and
// bench/peers/parsebench). They need len(w) >= 32, which every real head
// meets; shorter buffers, other CPUs and the purego tag take the portable
// scans (TestScansAgree and FuzzFieldLines hold the two to the same answers).
var useAVX2 = cpu.X86.HasAVX2

// fieldLinesAVX2 is fieldLinesGeneric with AVX2; len(w) must be >= 32.
//
//go:noescape
func fieldLinesAVX2(w []byte, pos int, out []fieldBounds) (n, next int)

// skipTargetAVX2 is skipTargetGeneric with AVX2; len(w) must be >= 32.
//
//go:noescape
func skipTargetAVX2(w []byte, pos int) int

// skipClassAVX2 is skipClassGeneric for the class tab was built from (see
// nibbleTable); len(w) must be >= 32.
//
//go:noescape
func skipClassAVX2(w []byte, pos int, tab *[64]byte) int
