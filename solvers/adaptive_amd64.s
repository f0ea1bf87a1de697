//go:build !purego

#include "textflag.h"

// Vector versions of the AdaGrad and plain RMSProp loops of kernels.go: the
// same operations in the same order (no fused multiply-add), so the results
// are bit-identical to the Go loops. They process len(w) rounded down to the
// vector width; the Go loop does the rest.

#define BCAST_PS(off, reg) MOVSS off(AX), reg; SHUFPS $0, reg, reg
#define BCAST_PD(off, reg) MOVSD off(AX), reg; SHUFPD $0, reg, reg

// func adagradF32SSE(w, g, s []float32, c *[3]float32)   c = {lr, eps, epsIn}
TEXT ·adagradF32SSE(SB), NOSPLIT, $0-80
	MOVQ w_base+0(FP), DI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ s_base+48(FP), R8
	MOVQ c+72(FP), AX
	BCAST_PS(0, X8)
	BCAST_PS(4, X9)
	BCAST_PS(8, X10)
	XORPS X7, X7
	SHRQ $2, CX
	XORQ BX, BX
agf32loop:
	TESTQ CX, CX
	JZ agf32done
	MOVUPS (SI)(BX*1), X0 // g
	MOVUPS (R8)(BX*1), X1 // s
	MOVAPS X0, X2
	MULPS X0, X2          // g*g
	ADDPS X2, X1          // s + g*g
	MOVUPS X1, (R8)(BX*1)
	ADDPS X10, X1         // + epsIn
	SQRTPS X1, X1
	ADDPS X9, X1          // + eps
	MOVAPS X8, X3
	MULPS X0, X3          // lr*g
	DIVPS X1, X3
	MOVUPS (DI)(BX*1), X4
	SUBPS X3, X4
	MOVUPS X4, (DI)(BX*1)
	MOVUPS X7, (SI)(BX*1)
	ADDQ $16, BX
	DECQ CX
	JMP agf32loop
agf32done:
	RET

// func adagradF64SSE(w, g, s []float64, c *[3]float64)
TEXT ·adagradF64SSE(SB), NOSPLIT, $0-80
	MOVQ w_base+0(FP), DI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ s_base+48(FP), R8
	MOVQ c+72(FP), AX
	BCAST_PD(0, X8)
	BCAST_PD(8, X9)
	BCAST_PD(16, X10)
	XORPD X7, X7
	SHRQ $1, CX
	XORQ BX, BX
agf64loop:
	TESTQ CX, CX
	JZ agf64done
	MOVUPD (SI)(BX*1), X0
	MOVUPD (R8)(BX*1), X1
	MOVAPD X0, X2
	MULPD X0, X2
	ADDPD X2, X1
	MOVUPD X1, (R8)(BX*1)
	ADDPD X10, X1
	SQRTPD X1, X1
	ADDPD X9, X1
	MOVAPD X8, X3
	MULPD X0, X3
	DIVPD X1, X3
	MOVUPD (DI)(BX*1), X4
	SUBPD X3, X4
	MOVUPD X4, (DI)(BX*1)
	MOVUPD X7, (SI)(BX*1)
	ADDQ $16, BX
	DECQ CX
	JMP agf64loop
agf64done:
	RET

// func rmspropF32SSE(w, g, sq []float32, c *[5]float32)   c = {lr, rho, omr, eps, epsIn}
TEXT ·rmspropF32SSE(SB), NOSPLIT, $0-80
	MOVQ w_base+0(FP), DI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ sq_base+48(FP), R8
	MOVQ c+72(FP), AX
	BCAST_PS(0, X8)
	BCAST_PS(4, X9)
	BCAST_PS(8, X10)
	BCAST_PS(12, X11)
	BCAST_PS(16, X12)
	XORPS X7, X7
	SHRQ $2, CX
	XORQ BX, BX
rpf32loop:
	TESTQ CX, CX
	JZ rpf32done
	MOVUPS (SI)(BX*1), X0 // g
	MOVUPS (R8)(BX*1), X1 // sq
	MULPS X9, X1          // rho*sq
	MOVAPS X0, X2
	MULPS X0, X2          // g*g
	MULPS X10, X2         // omr*(g*g)
	ADDPS X2, X1          // si
	MOVUPS X1, (R8)(BX*1)
	ADDPS X12, X1         // + epsIn
	SQRTPS X1, X1
	ADDPS X11, X1         // + eps
	DIVPS X1, X0          // u = g/den
	MULPS X8, X0          // lr*u
	MOVUPS (DI)(BX*1), X3
	SUBPS X0, X3
	MOVUPS X3, (DI)(BX*1)
	MOVUPS X7, (SI)(BX*1)
	ADDQ $16, BX
	DECQ CX
	JMP rpf32loop
rpf32done:
	RET

// func rmspropF64SSE(w, g, sq []float64, c *[5]float64)
TEXT ·rmspropF64SSE(SB), NOSPLIT, $0-80
	MOVQ w_base+0(FP), DI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ sq_base+48(FP), R8
	MOVQ c+72(FP), AX
	BCAST_PD(0, X8)
	BCAST_PD(8, X9)
	BCAST_PD(16, X10)
	BCAST_PD(24, X11)
	BCAST_PD(32, X12)
	XORPD X7, X7
	SHRQ $1, CX
	XORQ BX, BX
rpf64loop:
	TESTQ CX, CX
	JZ rpf64done
	MOVUPD (SI)(BX*1), X0
	MOVUPD (R8)(BX*1), X1
	MULPD X9, X1
	MOVAPD X0, X2
	MULPD X0, X2
	MULPD X10, X2
	ADDPD X2, X1
	MOVUPD X1, (R8)(BX*1)
	ADDPD X12, X1
	SQRTPD X1, X1
	ADDPD X11, X1
	DIVPD X1, X0
	MULPD X8, X0
	MOVUPD (DI)(BX*1), X3
	SUBPD X0, X3
	MOVUPD X3, (DI)(BX*1)
	MOVUPD X7, (SI)(BX*1)
	ADDQ $16, BX
	DECQ CX
	JMP rpf64loop
rpf64done:
	RET

// func momentumF32SSE(w, g, b []float32, c *[4]float32, nesterov bool)
// c = {lr, mu, absmask, tiny}. The loop of momentumKernel four lanes at a time:
//   bi = mu*b + g; |bi| < tiny → 0; b = bi; Nesterov: bi = g + mu*bi; w = w - lr*bi; g = 0.
TEXT ·momentumF32SSE(SB), NOSPLIT, $0-81
	MOVQ    w_base+0(FP), DI
	MOVQ    w_len+8(FP), CX
	MOVQ    g_base+24(FP), SI
	MOVQ    b_base+48(FP), R8
	MOVQ    c+72(FP), AX
	MOVBQZX nesterov+80(FP), DX
	BCAST_PS(0, X8)
	BCAST_PS(4, X9)
	BCAST_PS(8, X10)
	BCAST_PS(12, X11)
	XORPS X7, X7
	SHRQ  $2, CX
	XORQ  BX, BX
mf32loop:
	TESTQ  CX, CX
	JZ     mf32done
	MOVUPS (SI)(BX*1), X0 // g
	MOVUPS (R8)(BX*1), X1 // b
	MULPS  X9, X1         // mu*b
	ADDPS  X0, X1         // bi = mu*b + g
	MOVAPS X10, X2
	ANDPS  X1, X2         // |bi|
	CMPPS  X11, X2, $5    // |bi| >= tiny (or NaN)
	ANDPS  X2, X1         // flush to +0
	MOVUPS X1, (R8)(BX*1)
	TESTQ  DX, DX
	JZ     mf32plain
	MULPS  X9, X1         // mu*bi
	ADDPS  X0, X1         // g + mu*bi
mf32plain:
	MULPS  X8, X1         // lr*bi
	MOVUPS (DI)(BX*1), X3
	SUBPS  X1, X3
	MOVUPS X3, (DI)(BX*1)
	MOVUPS X7, (SI)(BX*1)
	ADDQ   $16, BX
	DECQ   CX
	JMP    mf32loop
mf32done:
	RET

// func momentumF64SSE(w, g, b []float64, c *[4]float64, nesterov bool)
TEXT ·momentumF64SSE(SB), NOSPLIT, $0-81
	MOVQ    w_base+0(FP), DI
	MOVQ    w_len+8(FP), CX
	MOVQ    g_base+24(FP), SI
	MOVQ    b_base+48(FP), R8
	MOVQ    c+72(FP), AX
	MOVBQZX nesterov+80(FP), DX
	BCAST_PD(0, X8)
	BCAST_PD(8, X9)
	BCAST_PD(16, X10)
	BCAST_PD(24, X11)
	XORPD X7, X7
	SHRQ  $1, CX
	XORQ  BX, BX
mf64loop:
	TESTQ  CX, CX
	JZ     mf64done
	MOVUPD (SI)(BX*1), X0
	MOVUPD (R8)(BX*1), X1
	MULPD  X9, X1
	ADDPD  X0, X1
	MOVAPD X10, X2
	ANDPD  X1, X2
	CMPPD  X11, X2, $5
	ANDPD  X2, X1
	MOVUPD X1, (R8)(BX*1)
	TESTQ  DX, DX
	JZ     mf64plain
	MULPD  X9, X1
	ADDPD  X0, X1
mf64plain:
	MULPD  X8, X1
	MOVUPD (DI)(BX*1), X3
	SUBPD  X1, X3
	MOVUPD X3, (DI)(BX*1)
	MOVUPD X7, (SI)(BX*1)
	ADDQ   $16, BX
	DECQ   CX
	JMP    mf64loop
mf64done:
	RET

// func sgdF32SSE(w, g []float32, lr float32)
// The loop of sgdKernel, eight floats at a time: w = w - lr*g; g = 0.
TEXT ·sgdF32SSE(SB), NOSPLIT, $0-52
	MOVQ   w_base+0(FP), DI
	MOVQ   w_len+8(FP), CX
	MOVQ   g_base+24(FP), SI
	MOVSS  lr+48(FP), X8
	SHUFPS $0, X8, X8
	XORPS  X7, X7
	SHRQ   $3, CX
	XORQ   BX, BX
sf32loop:
	TESTQ  CX, CX
	JZ     sf32done
	MOVUPS (SI)(BX*1), X0
	MOVUPS 16(SI)(BX*1), X1
	MULPS  X8, X0
	MULPS  X8, X1
	MOVUPS (DI)(BX*1), X2
	MOVUPS 16(DI)(BX*1), X3
	SUBPS  X0, X2
	SUBPS  X1, X3
	MOVUPS X2, (DI)(BX*1)
	MOVUPS X3, 16(DI)(BX*1)
	MOVUPS X7, (SI)(BX*1)
	MOVUPS X7, 16(SI)(BX*1)
	ADDQ   $32, BX
	DECQ   CX
	JMP    sf32loop
sf32done:
	RET

// func sgdF64SSE(w, g []float64, lr float64)
TEXT ·sgdF64SSE(SB), NOSPLIT, $0-56
	MOVQ   w_base+0(FP), DI
	MOVQ   w_len+8(FP), CX
	MOVQ   g_base+24(FP), SI
	MOVSD  lr+48(FP), X8
	SHUFPD $0, X8, X8
	XORPD  X7, X7
	SHRQ   $2, CX
	XORQ   BX, BX
sf64loop:
	TESTQ  CX, CX
	JZ     sf64done
	MOVUPD (SI)(BX*1), X0
	MOVUPD 16(SI)(BX*1), X1
	MULPD  X8, X0
	MULPD  X8, X1
	MOVUPD (DI)(BX*1), X2
	MOVUPD 16(DI)(BX*1), X3
	SUBPD  X0, X2
	SUBPD  X1, X3
	MOVUPD X2, (DI)(BX*1)
	MOVUPD X3, 16(DI)(BX*1)
	MOVUPD X7, (SI)(BX*1)
	MOVUPD X7, 16(SI)(BX*1)
	ADDQ   $32, BX
	DECQ   CX
	JMP    sf64loop
sf64done:
	RET
