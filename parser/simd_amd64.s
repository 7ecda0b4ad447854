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

// CTLTO sets dst to the mask of bytes of Y0 below 0x20 or equal to 0x7F:
// b <= 0x1F exactly when min(b, 0x1F) == b (unsigned).
#define CTLTO(dst) \
	VPMINUB  ctl1f<>(SB), Y0, Y1; \
	VPCMPEQB Y0, Y1, Y1;   \
	VPCMPEQB del7f<>(SB), Y0, Y2; \
	VPOR     Y1, Y2, Y1;   \
	VPMOVMSKB Y1, dst

#define CTL CTLTO(R10)

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

// TAILCHUNK sets R14 for the chunk at BX (CX = BX+32) that the window's
// end (DX) cuts: its lanes at or past DX are set, so a search stops there,
// and those before DX are read from the window's last 32 bytes. Then it
// jumps to loaded. Clobbers CX, R10, Y0-Y2.
#define TAILCHUNK(loaded) \
	MOVQ $-1, R14;      \
	CMPQ BX, DX;        \
	JAE  loaded;        \
	VMOVDQU -32(SI)(DX*1), Y0; \
	CTL;                \
	SUBQ DX, CX;        \
	SHRQ CL, R10;       \
	MOVQ DX, CX;        \
	SUBQ BX, CX;        \
	SHLQ CL, R14;       \
	ORQ  R10, R14;      \
	JMP  loaded

// func fieldLinesAVX2(w []byte, pos int, out []fieldBounds) (n, next int)
//
// Where a line ends decides where the next begins, so that chain bounds
// this loop. To keep it short, CTLs are looked for in chunks of 32 bytes at
// fixed steps from pos (BX, its CTL lanes in R14), not at each line's start:
// a chunk's load and mask do not wait for the line before, and the end of a
// line is a shift and a bit scan of a mask already at hand. The value's end
// is the first CTL from the line's start on, since the bytes before the
// value (tchar, ':' and SP, all checked) hold none. The name is checked with
// a load at the line's start, which nothing later waits for.
//
// R11 = start of the current line, R13 = its name's end, R8 = its value's
// start, DI = &out[n], R9 = len(out) - n. R11 >= BX always, and R11 - BX
// < 64: a line starts at most two bytes past the chunk the last one ended in.
TEXT ·fieldLinesAVX2(SB), NOSPLIT, $0-72
	MOVQ w_base+0(FP), SI
	MOVQ w_len+8(FP), DX
	MOVQ pos+24(FP), AX
	MOVQ out_base+32(FP), DI
	MOVQ out_len+40(FP), R9
	VMOVDQU ·tcharNibbles+0(SB), Y8
	VMOVDQU ·tcharNibbles+32(SB), Y9
	VPXOR Y13, Y13, Y13
	MOVQ AX, BX
	JMP  load
line:
	MOVQ AX, R11
	TESTQ R9, R9
	JZ   done
	// field-name ":" with a non-empty name, from one block at the line's
	// start unless the name runs past it or the window ends within it.
	LEAQ 32(AX), CX
	CMPQ CX, DX
	JA   nslow
	VMOVDQU (SI)(AX*1), Y0
	NONCLASS
	TESTL R10, R10
	JZ   nslow
	TESTL $1, R10
	JNZ  done // empty name
	BSFL R10, R10
	LEAQ (AX)(R10*1), R13
	CMPB (SI)(R13*1), $':'
	JNE  done
	LEAQ 1(R13), AX
	// OWS before the value; a HTAB is left to fieldLine. Most lines have
	// one SP: with the ':' in lanes 0-29, the two bytes after it are in
	// the block, hence in the window, and need no bounds check.
	CMPL R10, $29
	JA   sp
	CMPB (SI)(AX*1), $' '
	JNE  value
	INCQ AX
	CMPB (SI)(AX*1), $' '
	JNE  value
	JMP  sp
nslow:
	MOVQ BX, R12 // SCAN clobbers BX
	SCAN(NONCLASS, nloop, ntail, nfound, nnone)
	MOVQ R12, BX
	CMPQ AX, R11
	JEQ  done
	CMPQ AX, DX
	JAE  done
	CMPB (SI)(AX*1), $':'
	JNE  done
	MOVQ AX, R13
	INCQ AX
sp:
	CMPQ AX, DX
	JAE  done
	CMPB (SI)(AX*1), $' '
	JNE  value
	INCQ AX
	JMP  sp
value:
	MOVQ AX, R8
	// The first CTL from the line's start: the chunk's mask shifted down
	// to the start, else the next chunks' whole.
	MOVQ R11, AX
shift:
	MOVQ AX, CX
	SUBQ BX, CX
	MOVQ R14, R12
	SHRQ CL, R12
	TESTQ R12, R12
	JNZ  cfound
	// Nothing from AX to the chunk's end: on to the next chunk. The line
	// may start inside it (two bytes past the last chunk's end at most).
	ADDQ $32, BX
	LEAQ 32(BX), CX
	CMPQ CX, DX
	JA   tail1
	VMOVDQU (SI)(BX*1), Y0
	CTLTO(R14)
loaded1:
	CMPQ AX, BX
	JA   shift
	MOVQ R14, R12
	TESTQ R12, R12
	JNZ  whole
next:
	// Whole chunks.
	ADDQ $32, BX
	// R14 = the CTL lanes of the chunk at BX. Lanes at or past the
	// window's end (DX) are set too, so a search stops there; a chunk the
	// window ends inside is read as the window's last 32 bytes.
	LEAQ 32(BX), CX
	CMPQ CX, DX
	JA   tail2
	VMOVDQU (SI)(BX*1), Y0
	CTLTO(R14)
loaded2:
	TESTQ R14, R14
	JZ   next
	MOVQ R14, R12
whole:
	MOVQ BX, AX
cfound:
	BSFQ R12, R12
	ADDQ R12, AX
	// AX >= DX: no CTL in the window. Else it must be the CR of a CRLF:
	// one 16-bit compare, bytes little-endian.
	LEAQ 2(AX), R12
	CMPQ R12, DX
	JA   done
	CMPW (SI)(AX*1), $0x0a0d
	JNE  done
	MOVQ R13, 0(DI)
	MOVQ R8, 8(DI)
	MOVQ R12, 24(DI)
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
	DECQ R9
	MOVQ R12, AX
	JMP  line
tail1:
	TAILCHUNK(loaded1)
tail2:
	TAILCHUNK(loaded2)
load:
	// The first chunk, at pos.
	LEAQ 32(BX), CX
	CMPQ CX, DX
	JA   tail0
	VMOVDQU (SI)(BX*1), Y0
	CTLTO(R14)
	JMP  line
tail0:
	TAILCHUNK(line)
done:
	MOVQ out_len+40(FP), R12
	SUBQ R9, R12
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
