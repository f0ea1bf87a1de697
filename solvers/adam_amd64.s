//go:build !purego

#include "textflag.h"

// func adamF32SSE(w, g, m, v []float32, c *[16]float32)
// c = {a, b1, b2, omb1, omb2, eps, s2, decay, absmask×4, tiny×4}. Processes
// len(w)/4*4 elements, four at a time, with exactly the operations (and
// rounding) of adamKernel:
//   mi = b1*m + omb1*g; vi = b2*v + omb2*(g*g); mi, vi below tiny in magnitude → 0;
//   w = w*decay - (a*mi)/(sqrt(vi)*s2 + eps); g = 0.
TEXT ·adamF32SSE(SB), NOSPLIT, $0-104
	MOVQ w_base+0(FP), DI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVQ c+96(FP), AX
	MOVSS 0(AX), X8
	SHUFPS $0, X8, X8
	MOVSS 4(AX), X9
	SHUFPS $0, X9, X9
	MOVSS 8(AX), X10
	SHUFPS $0, X10, X10
	MOVSS 12(AX), X11
	SHUFPS $0, X11, X11
	MOVSS 16(AX), X12
	SHUFPS $0, X12, X12
	MOVSS 20(AX), X13
	SHUFPS $0, X13, X13
	MOVSS 24(AX), X14
	SHUFPS $0, X14, X14
	MOVSS 28(AX), X15
	SHUFPS $0, X15, X15
	XORPS X7, X7
	SHRQ $2, CX
	XORQ BX, BX

loop:
	TESTQ CX, CX
	JZ done
	MOVUPS (SI)(BX*1), X0 // g
	MOVUPS (R8)(BX*1), X1 // m
	MULPS X9, X1          // b1*m
	MOVAPS X0, X2
	MULPS X11, X2         // omb1*g
	ADDPS X2, X1          // mi
	MOVUPS 32(AX), X2     // abs mask
	ANDPS X1, X2          // |mi|
	MOVUPS 48(AX), X4     // tiny
	CMPPS X4, X2, $5      // |mi| >= tiny (or NaN)
	ANDPS X2, X1          // flush subnormal mi to 0
	MOVUPS X1, (R8)(BX*1)
	MOVUPS (R9)(BX*1), X3 // v
	MULPS X10, X3         // b2*v
	MOVAPS X0, X4
	MULPS X0, X4          // g*g
	MULPS X12, X4         // omb2*(g*g)
	ADDPS X4, X3          // vi
	MOVUPS 48(AX), X5     // tiny
	MOVAPS X3, X2
	CMPPS X5, X2, $5      // vi >= tiny (or NaN)
	ANDPS X2, X3          // flush subnormal vi to 0
	MOVUPS X3, (R9)(BX*1)
	SQRTPS X3, X5         // sqrt(vi)
	MULPS X14, X5         // *s2
	ADDPS X13, X5         // +eps
	MOVAPS X8, X6
	MULPS X1, X6          // a*mi
	DIVPS X5, X6          // (a*mi)/den
	MOVUPS (DI)(BX*1), X0 // w
	MULPS X15, X0         // w*decay
	SUBPS X6, X0
	MOVUPS X0, (DI)(BX*1)
	MOVUPS X7, (SI)(BX*1) // g = 0
	ADDQ $16, BX
	DECQ CX
	JMP loop

done:
	RET

// func adamF64SSE(w, g, m, v []float64, c *[12]float64)
// c = {a, b1, b2, omb1, omb2, eps, s2, decay, absmask×2, tiny×2}: adamF32SSE
// for float64, two lanes at a time (SSE2), the same operations in the same order.
TEXT ·adamF64SSE(SB), NOSPLIT, $0-104
	MOVQ w_base+0(FP), DI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVQ c+96(FP), AX
	MOVSD 0(AX), X8
	SHUFPD $0, X8, X8
	MOVSD 8(AX), X9
	SHUFPD $0, X9, X9
	MOVSD 16(AX), X10
	SHUFPD $0, X10, X10
	MOVSD 24(AX), X11
	SHUFPD $0, X11, X11
	MOVSD 32(AX), X12
	SHUFPD $0, X12, X12
	MOVSD 40(AX), X13
	SHUFPD $0, X13, X13
	MOVSD 48(AX), X14
	SHUFPD $0, X14, X14
	MOVSD 56(AX), X15
	SHUFPD $0, X15, X15
	XORPD X7, X7
	SHRQ $1, CX
	XORQ BX, BX

loop64:
	TESTQ CX, CX
	JZ done64
	MOVUPD (SI)(BX*1), X0 // g
	MOVUPD (R8)(BX*1), X1 // m
	MULPD X9, X1          // b1*m
	MOVAPD X0, X2
	MULPD X11, X2         // omb1*g
	ADDPD X2, X1          // mi
	MOVUPD 64(AX), X2     // abs mask
	ANDPD X1, X2          // |mi|
	MOVUPD 80(AX), X4     // tiny
	CMPPD X4, X2, $5      // |mi| >= tiny (or NaN)
	ANDPD X2, X1          // flush subnormal mi to 0
	MOVUPD X1, (R8)(BX*1)
	MOVUPD (R9)(BX*1), X3 // v
	MULPD X10, X3         // b2*v
	MOVAPD X0, X4
	MULPD X0, X4          // g*g
	MULPD X12, X4         // omb2*(g*g)
	ADDPD X4, X3          // vi
	MOVUPD 80(AX), X5     // tiny
	MOVAPD X3, X2
	CMPPD X5, X2, $5      // vi >= tiny (or NaN)
	ANDPD X2, X3          // flush subnormal vi to 0
	MOVUPD X3, (R9)(BX*1)
	SQRTPD X3, X5         // sqrt(vi)
	MULPD X14, X5         // *s2
	ADDPD X13, X5         // +eps
	MOVAPD X8, X6
	MULPD X1, X6          // a*mi
	DIVPD X5, X6          // (a*mi)/den
	MOVUPD (DI)(BX*1), X0 // w
	MULPD X15, X0         // w*decay
	SUBPD X6, X0
	MOVUPD X0, (DI)(BX*1)
	MOVUPD X7, (SI)(BX*1) // g = 0
	ADDQ $16, BX
	DECQ CX
	JMP loop64

done64:
	RET
