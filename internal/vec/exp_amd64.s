#include "textflag.h"

// The exponential kernels: 16 float32 per iteration, n a positive multiple
// of 16, with the operations of Expf (exp.go) in the same order and no fused
// multiply-adds. Go's operand order: VOP src2, src1, dst.

// EXPCONSTS broadcasts Expf's constants into Z16–Z29.
#define EXPCONSTS \
	MOVL $0xC2AE999A, AX; VPBROADCASTD AX, Z16 \ // −87.3
	MOVL $0x42B0999A, AX; VPBROADCASTD AX, Z17 \ // 88.3
	MOVL $0x3FB8AA3B, AX; VPBROADCASTD AX, Z18 \ // log2 e
	MOVL $0x4B400000, AX; VPBROADCASTD AX, Z19 \ // 1.5·2²³ (as a float and as its bits)
	MOVL $0x3F318000, AX; VPBROADCASTD AX, Z20 \ // ln2, high part
	MOVL $0xB95E8083, AX; VPBROADCASTD AX, Z21 \ // ln2, low part (negative)
	MOVL $0x39506967, AX; VPBROADCASTD AX, Z22 \ // p5
	MOVL $0x3AB743CE, AX; VPBROADCASTD AX, Z23 \ // p4
	MOVL $0x3C088908, AX; VPBROADCASTD AX, Z24 \ // p3
	MOVL $0x3D2AA9C1, AX; VPBROADCASTD AX, Z25 \ // p2
	MOVL $0x3E2AAAAA, AX; VPBROADCASTD AX, Z26 \ // p1
	MOVL $0x3F000000, AX; VPBROADCASTD AX, Z27 \ // p0
	MOVL $0x3F800000, AX; VPBROADCASTD AX, Z28 \ // 1
	MOVL $127, AX; VPBROADCASTD AX, Z29          // the exponent bias

// EXPF replaces Z0 by Expf(Z0), with Z1–Z3 as scratch.
#define EXPF \
	VMAXPS Z0, Z16, Z0 \ // max(−87.3, x): a NaN x is the second operand, kept
	VMINPS Z0, Z17, Z0 \
	VMULPS Z18, Z0, Z1 \ // x·log2 e
	VADDPS Z19, Z1, Z1 \ // k
	VPSUBD Z19, Z1, Z2 \ // n = bits(k) − bits(magic)
	VSUBPS Z19, Z1, Z1 \ // kf
	VMULPS Z20, Z1, Z3 \
	VSUBPS Z3, Z0, Z0 \
	VMULPS Z21, Z1, Z3 \
	VSUBPS Z3, Z0, Z0 \ // r
	VMULPS Z0, Z0, Z1 \ // z = r·r
	VMULPS Z0, Z22, Z3 \ // p5·r
	VADDPS Z23, Z3, Z3 \
	VMULPS Z0, Z3, Z3 \
	VADDPS Z24, Z3, Z3 \
	VMULPS Z0, Z3, Z3 \
	VADDPS Z25, Z3, Z3 \
	VMULPS Z0, Z3, Z3 \
	VADDPS Z26, Z3, Z3 \
	VMULPS Z0, Z3, Z3 \
	VADDPS Z27, Z3, Z3 \
	VMULPS Z1, Z3, Z3 \ // p·z
	VADDPS Z0, Z3, Z3 \ // + r
	VADDPS Z28, Z3, Z3 \ // + 1
	VPADDD Z29, Z2, Z2 \
	VPSLLD $23, Z2, Z2 \ // 2^n
	VMULPS Z2, Z3, Z0

// func expShift512(dst, x *float32, n int, shift float32)
TEXT ·expShift512(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS shift+24(FP), Z30
	EXPCONSTS
	XORQ BX, BX

expLoop:
	VMOVUPS (SI)(BX*4), Z0
	VSUBPS Z30, Z0, Z0
	EXPF
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT expLoop
	VZEROUPPER
	RET

// func sigmoid512(dst, x *float32, n int)
TEXT ·sigmoid512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	EXPCONSTS
	MOVL $0x80000000, AX
	VPBROADCASTD AX, Z30
	XORQ BX, BX

sigLoop:
	VMOVUPS (SI)(BX*4), Z0
	VPXORD Z30, Z0, Z0 // −x
	EXPF
	VADDPS Z28, Z0, Z0 // 1 + e
	VDIVPS Z0, Z28, Z0 // 1/(1 + e)
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT sigLoop
	VZEROUPPER
	RET

// func tanh512(dst, x *float32, n int)
TEXT ·tanh512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	EXPCONSTS
	MOVL $0xC0000000, AX // −2
	VPBROADCASTD AX, Z30
	MOVL $0x40000000, AX // 2
	VPBROADCASTD AX, Z31
	XORQ BX, BX

tanhLoop:
	VMOVUPS (SI)(BX*4), Z0
	VMULPS Z0, Z30, Z0 // −2·x
	EXPF
	VADDPS Z28, Z0, Z0 // 1 + e
	VDIVPS Z0, Z31, Z0 // 2/(1 + e)
	VSUBPS Z28, Z0, Z0 // − 1
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT tanhLoop
	VZEROUPPER
	RET

// func maxLanes512(x *float32, n int, lanes *[16]float32)
// lanes = x[0:16], then lane by lane m = (m > v) ? m : v (MAXPS with m as
// the first operand) over the rest.
TEXT ·maxLanes512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ lanes+16(FP), DI
	VMOVUPS (SI), Z0
	MOVQ $16, BX
	CMPQ BX, CX
	JGE maxDone

maxLoop:
	VMOVUPS (SI)(BX*4), Z1
	VMAXPS Z1, Z0, Z0 // src1 = m, src2 = v: m > v ? m : v
	ADDQ $16, BX
	CMPQ BX, CX
	JLT maxLoop

maxDone:
	VMOVUPS Z0, (DI)
	VZEROUPPER
	RET
