#include "textflag.h"

// Each kernel does 16 elements per iteration (two halves of 8 float64 lanes
// for the float64 sums), n a positive multiple of 16, with the operations of
// the Go loops in vec.go in the same order and no fused multiply-adds.

// func sumTo512(acc *float64, x *float32, n int)
TEXT ·sumTo512(SB), NOSPLIT, $0-24
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ BX, BX

sumLoop:
	VCVTPS2PD (SI)(BX*4), Z0
	VCVTPS2PD 32(SI)(BX*4), Z1
	VADDPD (DI)(BX*8), Z0, Z0
	VADDPD 64(DI)(BX*8), Z1, Z1
	VMOVUPD Z0, (DI)(BX*8)
	VMOVUPD Z1, 64(DI)(BX*8)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT sumLoop
	VZEROUPPER
	RET

// func sqDevTo512(acc *float64, x *float32, mean *float64, n int)
TEXT ·sqDevTo512(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ mean+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ BX, BX

sqLoop:
	VCVTPS2PD (SI)(BX*4), Z0
	VCVTPS2PD 32(SI)(BX*4), Z1
	VSUBPD (DX)(BX*8), Z0, Z0     // d = x - mean
	VSUBPD 64(DX)(BX*8), Z1, Z1
	VMULPD Z0, Z0, Z0             // d*d
	VMULPD Z1, Z1, Z1
	VADDPD (DI)(BX*8), Z0, Z0     // acc + d*d
	VADDPD 64(DI)(BX*8), Z1, Z1
	VMOVUPD Z0, (DI)(BX*8)
	VMOVUPD Z1, 64(DI)(BX*8)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT sqLoop
	VZEROUPPER
	RET

// func gradSumsTo512(sg, sgx *float64, x, gr *float32, mean *float64, n int)
TEXT ·gradSumsTo512(SB), NOSPLIT, $0-48
	MOVQ sg+0(FP), DI
	MOVQ sgx+8(FP), R8
	MOVQ x+16(FP), SI
	MOVQ gr+24(FP), R9
	MOVQ mean+32(FP), DX
	MOVQ n+40(FP), CX
	XORQ BX, BX

gsLoop:
	VCVTPS2PD (R9)(BX*4), Z0      // gv
	VCVTPS2PD 32(R9)(BX*4), Z1
	VADDPD (DI)(BX*8), Z0, Z2     // sg + gv
	VADDPD 64(DI)(BX*8), Z1, Z3
	VMOVUPD Z2, (DI)(BX*8)
	VMOVUPD Z3, 64(DI)(BX*8)
	VCVTPS2PD (SI)(BX*4), Z4      // x
	VCVTPS2PD 32(SI)(BX*4), Z5
	VSUBPD (DX)(BX*8), Z4, Z4     // x - mean
	VSUBPD 64(DX)(BX*8), Z5, Z5
	VMULPD Z4, Z0, Z0             // gv*(x - mean)
	VMULPD Z5, Z1, Z1
	VADDPD (R8)(BX*8), Z0, Z0     // sgx + …
	VADDPD 64(R8)(BX*8), Z1, Z1
	VMOVUPD Z0, (R8)(BX*8)
	VMOVUPD Z1, 64(R8)(BX*8)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT gsLoop
	VZEROUPPER
	RET

// func affine512(out, gr, x, a, b, m, k *float32, n int)
TEXT ·affine512(SB), NOSPLIT, $0-64
	MOVQ out+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ a+24(FP), R8
	MOVQ b+32(FP), R9
	MOVQ m+40(FP), R10
	MOVQ k+48(FP), R11
	MOVQ n+56(FP), CX
	XORQ BX, BX

affLoop:
	VMOVUPS (R8)(BX*4), Z0
	VMULPS (SI)(BX*4), Z0, Z0     // a*g
	VMOVUPS (DX)(BX*4), Z1
	VSUBPS (R10)(BX*4), Z1, Z1    // x - m
	VMULPS (R9)(BX*4), Z1, Z1     // b*(x - m)
	VADDPS Z1, Z0, Z0             // a*g + b*(x - m)
	VADDPS (R11)(BX*4), Z0, Z0    // + k
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT affLoop
	VZEROUPPER
	RET
