//go:build amd64 && !purego

#include "textflag.h"

// AVX2 byte-class scans; see simd_amd64.go and scan.go. Registers:
// SI = &w[0], DX = len(w), AX = position, Y8/Y9 = nibble tables,
// Y13 = zero.

// 32-byte constants, read as memory operands so a call needs no set-up.
#define SPLAT(name, q) \
	DATA name+0(SB)/8, q;  \
	DATA name+8(SB)/8, q;  \
	DATA name+16(SB)/8, q; \
	DATA name+24(SB)/8, q; \
	GLOBL name(SB), RODATA|NOPTR, $32

SPLAT(nib0f<>, $0x0f0f0f0f0f0f0f0f)
SPLAT(ctl1f<>, $0x1f1f1f1f1f1f1f1f)
SPLAT(del7f<>, $0x7f7f7f7f7f7f7f7f)

// NONCLASS sets R10 to the mask of bytes of Y0 outside the nibble class.
#define NONCLASS \
	VPAND    nib0f<>(SB), Y0, Y1; \
	VPSRLW   $4, Y0, Y2;   \
	VPAND    nib0f<>(SB), Y2, Y2; \
	VPSHUFB  Y1, Y8, Y1;   \
	VPSHUFB  Y2, Y9, Y2;   \
	VPAND    Y1, Y2, Y1;   \
	VPCMPEQB Y13, Y1, Y1;  \
	VPMOVMSKB Y1, R10

// CTL sets R10 to the mask of bytes of Y0 below 0x20 or equal to 0x7F:
// b <= 0x1F exactly when min(b, 0x1F) == b (unsigned).
#define CTL \
	VPMINUB  ctl1f<>(SB), Y0, Y1; \
	VPCMPEQB Y0, Y1, Y1;   \
	VPCMPEQB del7f<>(SB), Y0, Y2; \
	VPOR     Y1, Y2, Y1;   \
	VPMOVMSKB Y1, R10

// SCAN advances AX to the first byte at or after AX that CLASSIFY flags, or
// to DX. Whole blocks are read while AX <= DX-32 (CX); the last partial
// block is read as the window's final 32 bytes, with the lanes before AX
// shifted out of the mask. Clobbers BX, CX, R10, Y0-Y2.
#define SCAN(CLASSIFY, loop, tail, found, none) \
	LEAQ  -32(DX), CX;              \
	CMPQ  AX, CX;                   \
	JGT   tail;                     \
loop:                               \
	VMOVDQU (SI)(AX*1), Y0;         \
	CLASSIFY;                       \
	TESTL R10, R10;                 \
	JNZ   found;                    \
	ADDQ  $32, AX;                  \
	CMPQ  AX, CX;                   \
	JLE   loop;                     \
tail:                               \
	MOVQ  DX, BX;                   \
	SUBQ  AX, BX;                   \
	JZ    none;                     \
	VMOVDQU -32(SI)(DX*1), Y0;      \
	CLASSIFY;                       \
	MOVQ  $32, CX;                  \
	SUBQ  BX, CX;                   \
	SHRL  CL, R10;                  \
	TESTL R10, R10;                 \
	JNZ   found;                    \
	MOVQ  DX, AX;                   \
	JMP   none;                     \
found:                              \
	BSFL  R10, R10;                 \
	ADDQ  R10, AX;                  \
none:

// func fieldLinesAVX2(w []byte, pos int, out []fieldBounds) (n, next int)
//
// R11 = start of the current line, R13 = its name's end, R8 = its value's
// start, DI = &out[n], R12 = n, R9 = len(out).
TEXT ·fieldLinesAVX2(SB), NOSPLIT, $0-72
	MOVQ w_base+0(FP), SI
	MOVQ w_len+8(FP), DX
	MOVQ pos+24(FP), AX
	MOVQ out_base+32(FP), DI
	MOVQ out_len+40(FP), R9
	XORQ R12, R12
	VMOVDQU ·tcharNibbles+0(SB), Y8
	VMOVDQU ·tcharNibbles+32(SB), Y9
	VPXOR Y13, Y13, Y13
line:
	MOVQ AX, R11
	CMPQ R12, R9
	JAE  done
	SCAN(NONCLASS, nloop, ntail, nfound, nnone)
	// field-name ":" with a non-empty name.
	CMPQ AX, R11
	JEQ  done
	CMPQ AX, DX
	JAE  done
	CMPB (SI)(AX*1), $':'
	JNE  done
	MOVQ AX, R13
	INCQ AX
	// OWS before the value; a HTAB is left to fieldLine.
sp:
	CMPQ AX, DX
	JAE  done
	CMPB (SI)(AX*1), $' '
	JNE  value
	INCQ AX
	JMP  sp
value:
	MOVQ AX, R8
	SCAN(CTL, cloop, ctail, cfound, cnone)
	// The first CTL must be the CR of a CRLF.
	LEAQ 1(AX), BX
	CMPQ BX, DX
	JAE  done
	CMPB (SI)(AX*1), $'\r'
	JNE  done
	CMPB 1(SI)(AX*1), $'\n'
	JNE  done
	INCQ BX
	MOVQ R13, 0(DI)
	MOVQ R8, 8(DI)
	MOVQ BX, 24(DI)
	// Trailing OWS (only SP can be there: a HTAB would be the first CTL).
trim:
	CMPQ AX, R8
	JBE  trimmed
	CMPB -1(SI)(AX*1), $' '
	JNE  trimmed
	DECQ AX
	JMP  trim
trimmed:
	MOVQ AX, 16(DI)
	ADDQ $32, DI
	INCQ R12
	MOVQ BX, AX
	JMP  line
done:
	MOVQ R12, n+56(FP)
	MOVQ R11, next+64(FP)
	VZEROUPPER
	RET

// func skipTargetAVX2(w []byte, pos int) int
TEXT ·skipTargetAVX2(SB), NOSPLIT, $0-40
	MOVQ w_base+0(FP), SI
	MOVQ w_len+8(FP), DX
	MOVQ pos+24(FP), AX
	VMOVDQU ·targetNibbles+0(SB), Y8
	VMOVDQU ·targetNibbles+32(SB), Y9
	VPXOR Y13, Y13, Y13
	SCAN(NONCLASS, tloop, ttail, tfound, tnone)
	MOVQ AX, ret+32(FP)
	VZEROUPPER
	RET

// func skipClassAVX2(w []byte, pos int, tab *[64]byte) int
TEXT ·skipClassAVX2(SB), NOSPLIT, $0-48
	MOVQ w_base+0(FP), SI
	MOVQ w_len+8(FP), DX
	MOVQ pos+24(FP), AX
	MOVQ tab+32(FP), BX
	VMOVDQU 0(BX), Y8
	VMOVDQU 32(BX), Y9
	VPXOR Y13, Y13, Y13
	SCAN(NONCLASS, kloop, ktail, kfound, knone)
	MOVQ AX, ret+40(FP)
	VZEROUPPER
	RET
