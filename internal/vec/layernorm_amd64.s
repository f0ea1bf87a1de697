#include "textflag.h"

// The layer-norm row kernels: 16 elements per iteration, n a positive
// multiple of 16, with the operations of layernorm.go's Go loops in the
// same order and no fused multiply-adds. Go's operand order: VOP src2, src1, dst.

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

// func gammaGradSumsLanes512(x, gr, gamma *float32, n int, mu float64, l1, l2 *[16]float64)
TEXT ·gammaGradSumsLanes512(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ gr+8(FP), R9
	MOVQ gamma+16(FP), R10
	MOVQ n+24(FP), CX
	VBROADCASTSD mu+32(FP), Z8
	MOVQ l1+40(FP), DI
	MOVQ l2+48(FP), R8
	VMOVUPD (DI), Z2
	VMOVUPD 64(DI), Z3
	VMOVUPD (R8), Z6
	VMOVUPD 64(R8), Z7
	XORQ BX, BX

ggLoop:
	VMOVUPS (R9)(BX*4), Z9
	VMULPS (R10)(BX*4), Z9, Z9 // gg = g*gamma (float32)
	VEXTRACTF64X4 $1, Z9, Y10
	VCVTPS2PD Y9, Z0           // lanes 0-7
	VCVTPS2PD Y10, Z1          // lanes 8-15
	VADDPD Z0, Z2, Z2          // l1 += gg
	VADDPD Z1, Z3, Z3
	VCVTPS2PD (SI)(BX*4), Z4   // x
	VCVTPS2PD 32(SI)(BX*4), Z5
	VSUBPD Z8, Z4, Z4          // x - mu
	VSUBPD Z8, Z5, Z5
	VMULPD Z4, Z0, Z0          // gg*(x - mu)
	VMULPD Z5, Z1, Z1
	VADDPD Z0, Z6, Z6          // l2 += ...
	VADDPD Z1, Z7, Z7
	ADDQ $16, BX
	CMPQ BX, CX
	JLT ggLoop
	VMOVUPD Z2, (DI)
	VMOVUPD Z3, 64(DI)
	VMOVUPD Z6, (R8)
	VMOVUPD Z7, 64(R8)
	VZEROUPPER
	RET

// func lnGradRow512(dx, x, gr, gamma *float32, pg, pb *float64, n int, c *[4]float32)
// c = {m, inv, s1, s2}: xh = (x - m)*inv; dx = inv*((g*gamma - s1) - xh*s2);
// pg += float64(g*xh); pb += float64(g).
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
	VEXTRACTF64X4 $1, Z4, Y5
	VCVTPS2PD Y4, Z6
	VCVTPS2PD Y5, Z7
	VADDPD (R11)(BX*8), Z6, Z6
	VADDPD 64(R11)(BX*8), Z7, Z7
	VMOVUPD Z6, (R11)(BX*8)
	VMOVUPD Z7, 64(R11)(BX*8)
	VEXTRACTF64X4 $1, Z1, Y5
	VCVTPS2PD Y1, Z6
	VCVTPS2PD Y5, Z7
	VADDPD (R12)(BX*8), Z6, Z6
	VADDPD 64(R12)(BX*8), Z7, Z7
	VMOVUPD Z6, (R12)(BX*8)
	VMOVUPD Z7, 64(R12)(BX*8)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT lnGradLoop
	VZEROUPPER
	RET

// func momentsLanes512(x *float32, n int, s float64, l1, l2 *[16]float64)
// d = x - s: l1 += d, l2 += d*d (float64 lanes).
TEXT ·momentsLanes512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSD s+16(FP), Z8
	MOVQ l1+24(FP), DI
	MOVQ l2+32(FP), R8
	VMOVUPD (DI), Z2
	VMOVUPD 64(DI), Z3
	VMOVUPD (R8), Z6
	VMOVUPD 64(R8), Z7
	XORQ BX, BX

momLoop:
	VCVTPS2PD (SI)(BX*4), Z0
	VCVTPS2PD 32(SI)(BX*4), Z1
	VSUBPD Z8, Z0, Z0 // d
	VSUBPD Z8, Z1, Z1
	VADDPD Z0, Z2, Z2 // l1 += d
	VADDPD Z1, Z3, Z3
	VMULPD Z0, Z0, Z0 // d*d
	VMULPD Z1, Z1, Z1
	VADDPD Z0, Z6, Z6 // l2 += d*d
	VADDPD Z1, Z7, Z7
	ADDQ $16, BX
	CMPQ BX, CX
	JLT momLoop
	VMOVUPD Z2, (DI)
	VMOVUPD Z3, 64(DI)
	VMOVUPD Z6, (R8)
	VMOVUPD Z7, 64(R8)
	VZEROUPPER
	RET
