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

// The lane reductions: lanes[l] += the elements i = l (mod 16) of x[:n], in
// two ZMM accumulators of 8 float64 (lanes 0-7 and 8-15), loaded from and
// stored back to lanes.

// func sumLanes512(x *float32, n int, lanes *[16]float64)
TEXT ·sumLanes512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ lanes+16(FP), DI
	VMOVUPD (DI), Z2
	VMOVUPD 64(DI), Z3
	XORQ BX, BX

sumLanesLoop:
	VCVTPS2PD (SI)(BX*4), Z0
	VCVTPS2PD 32(SI)(BX*4), Z1
	VADDPD Z0, Z2, Z2
	VADDPD Z1, Z3, Z3
	ADDQ $16, BX
	CMPQ BX, CX
	JLT sumLanesLoop
	VMOVUPD Z2, (DI)
	VMOVUPD Z3, 64(DI)
	VZEROUPPER
	RET

// func sqDevLanes512(x *float32, n int, mu float64, lanes *[16]float64)
TEXT ·sqDevLanes512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSD mu+16(FP), Z4
	MOVQ lanes+24(FP), DI
	VMOVUPD (DI), Z2
	VMOVUPD 64(DI), Z3
	XORQ BX, BX

sqLanesLoop:
	VCVTPS2PD (SI)(BX*4), Z0
	VCVTPS2PD 32(SI)(BX*4), Z1
	VSUBPD Z4, Z0, Z0       // d = x - mu
	VSUBPD Z4, Z1, Z1
	VMULPD Z0, Z0, Z0       // d*d
	VMULPD Z1, Z1, Z1
	VADDPD Z0, Z2, Z2
	VADDPD Z1, Z3, Z3
	ADDQ $16, BX
	CMPQ BX, CX
	JLT sqLanesLoop
	VMOVUPD Z2, (DI)
	VMOVUPD Z3, 64(DI)
	VZEROUPPER
	RET

// func gradSumsLanes512(x, gr *float32, n int, mu float64, lg, lgx *[16]float64)
TEXT ·gradSumsLanes512(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ gr+8(FP), R9
	MOVQ n+16(FP), CX
	VBROADCASTSD mu+24(FP), Z8
	MOVQ lg+32(FP), DI
	MOVQ lgx+40(FP), R8
	VMOVUPD (DI), Z2
	VMOVUPD 64(DI), Z3
	VMOVUPD (R8), Z6
	VMOVUPD 64(R8), Z7
	XORQ BX, BX

gsLanesLoop:
	VCVTPS2PD (R9)(BX*4), Z0    // gv
	VCVTPS2PD 32(R9)(BX*4), Z1
	VADDPD Z0, Z2, Z2           // lg += gv
	VADDPD Z1, Z3, Z3
	VCVTPS2PD (SI)(BX*4), Z4    // x
	VCVTPS2PD 32(SI)(BX*4), Z5
	VSUBPD Z8, Z4, Z4           // x - mu
	VSUBPD Z8, Z5, Z5
	VMULPD Z4, Z0, Z0           // gv*(x - mu)
	VMULPD Z5, Z1, Z1
	VADDPD Z0, Z6, Z6           // lgx += ...
	VADDPD Z1, Z7, Z7
	ADDQ $16, BX
	CMPQ BX, CX
	JLT gsLanesLoop
	VMOVUPD Z2, (DI)
	VMOVUPD Z3, 64(DI)
	VMOVUPD Z6, (R8)
	VMOVUPD Z7, 64(R8)
	VZEROUPPER
	RET

// func affineConst512(out, gr, x *float32, n int, c *[4]float32)
// c = {a, b, m, k}: out = a*g + b*(x - m) + k.
TEXT ·affineConst512(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), AX
	VBROADCASTSS 0(AX), Z4
	VBROADCASTSS 4(AX), Z5
	VBROADCASTSS 8(AX), Z6
	VBROADCASTSS 12(AX), Z7
	XORQ BX, BX

affConstLoop:
	VMULPS (SI)(BX*4), Z4, Z0     // a*g
	VMOVUPS (DX)(BX*4), Z1
	VSUBPS Z6, Z1, Z1             // x - m
	VMULPS Z5, Z1, Z1             // b*(x - m)
	VADDPS Z1, Z0, Z0
	VADDPS Z7, Z0, Z0             // + k
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT affConstLoop
	VZEROUPPER
	RET
