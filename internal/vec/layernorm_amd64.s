#include "textflag.h"

// The layer-norm row kernels: 16 float32 per iteration, n a positive
// multiple of 16, with the operations of layernorm.go's Go loops in the
// same order and no fused multiply-adds. Go's operand order: VOP src2, src1, dst.

// func momentsLanes512(x *float32, n int, s float32, l1, l2 *[16]float32)
// d = x - s: l1 += d, l2 += d*d.
TEXT ·momentsLanes512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Z8
	MOVQ l1+24(FP), DI
	MOVQ l2+32(FP), R8
	VMOVUPS (DI), Z2
	VMOVUPS (R8), Z3
	XORQ BX, BX

momLoop:
	VMOVUPS (SI)(BX*4), Z0
	VSUBPS Z8, Z0, Z0 // d
	VADDPS Z0, Z2, Z2 // l1 += d
	VMULPS Z0, Z0, Z0 // d*d
	VADDPS Z0, Z3, Z3 // l2 += d*d
	ADDQ $16, BX
	CMPQ BX, CX
	JLT momLoop
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, (R8)
	VZEROUPPER
	RET

// func lnRow512(y, x, gamma, beta *float32, n int, c *[2]float32)
// c = {m, inv}: y = ((x - m)*inv)*gamma + beta.
TEXT ·lnRow512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ gamma+16(FP), DX
	MOVQ beta+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Z4
	VBROADCASTSS 4(AX), Z5
	XORQ BX, BX

lnRowLoop:
	VMOVUPS (SI)(BX*4), Z0
	VSUBPS Z4, Z0, Z0         // x - m
	VMULPS Z5, Z0, Z0         // *inv
	VMULPS (DX)(BX*4), Z0, Z0 // *gamma
	VADDPS (R8)(BX*4), Z0, Z0 // + beta
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT lnRowLoop
	VZEROUPPER
	RET

// func gammaGradSumsLanes512(x, gr, gamma *float32, n int, mu float32, l1, l2 *[16]float32)
// gg = g*gamma: l1 += gg, l2 += gg*(x - mu).
TEXT ·gammaGradSumsLanes512(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ gr+8(FP), R9
	MOVQ gamma+16(FP), R10
	MOVQ n+24(FP), CX
	VBROADCASTSS mu+32(FP), Z8
	MOVQ l1+40(FP), DI
	MOVQ l2+48(FP), R8
	VMOVUPS (DI), Z2
	VMOVUPS (R8), Z3
	XORQ BX, BX

ggLoop:
	VMOVUPS (R9)(BX*4), Z0
	VMULPS (R10)(BX*4), Z0, Z0 // gg
	VADDPS Z0, Z2, Z2          // l1 += gg
	VMOVUPS (SI)(BX*4), Z1
	VSUBPS Z8, Z1, Z1          // x - mu
	VMULPS Z1, Z0, Z0          // gg*(x - mu)
	VADDPS Z0, Z3, Z3          // l2 += ...
	ADDQ $16, BX
	CMPQ BX, CX
	JLT ggLoop
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, (R8)
	VZEROUPPER
	RET

// func lnGradRow512(dx, x, gr, gamma, pg, pb *float32, n int, c *[4]float32)
// c = {m, inv, s1, s2}: xh = (x - m)*inv; dx = inv*((g*gamma - s1) - xh*s2);
// pg += g*xh; pb += g.
TEXT ·lnGradRow512(SB), NOSPLIT, $0-64
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ gr+16(FP), R9
	MOVQ gamma+24(FP), R10
	MOVQ pg+32(FP), R11
	MOVQ pb+40(FP), R12
	MOVQ n+48(FP), CX
	MOVQ c+56(FP), AX
	VBROADCASTSS 0(AX), Z20 // m
	VBROADCASTSS 4(AX), Z21 // inv
	VBROADCASTSS 8(AX), Z22 // s1
	VBROADCASTSS 12(AX), Z23 // s2
	XORQ BX, BX

lnGradLoop:
	VMOVUPS (SI)(BX*4), Z0
	VSUBPS Z20, Z0, Z0         // x - m
	VMULPS Z21, Z0, Z0         // xh
	VMOVUPS (R9)(BX*4), Z1     // g
	VMULPS (R10)(BX*4), Z1, Z2 // g*gamma
	VSUBPS Z22, Z2, Z2         // - s1
	VMULPS Z23, Z0, Z3         // xh*s2
	VSUBPS Z3, Z2, Z2          // (g*gamma - s1) - xh*s2
	VMULPS Z2, Z21, Z2         // inv*(...)
	VMOVUPS Z2, (DI)(BX*4)
	VMULPS Z0, Z1, Z4          // g*xh
	VADDPS (R11)(BX*4), Z4, Z4 // pg + g*xh
	VMOVUPS Z4, (R11)(BX*4)
	VADDPS (R12)(BX*4), Z1, Z5 // pb + g
	VMOVUPS Z5, (R12)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT lnGradLoop
	VZEROUPPER
	RET
