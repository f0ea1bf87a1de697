#include "textflag.h"

// The kernels of act.go, 16 elements (outputs) per iteration, n a positive
// multiple of 16, with the results of the Go loops bit for bit.

// Permutation indices for VPERMI2PS over two tables of 16 floats (0–15 the
// first, 16–31 the second): the even and odd elements of 32, and the
// interleaving of two vectors' low and high halves.
DATA permEven<>+0(SB)/4, $0
DATA permEven<>+4(SB)/4, $2
DATA permEven<>+8(SB)/4, $4
DATA permEven<>+12(SB)/4, $6
DATA permEven<>+16(SB)/4, $8
DATA permEven<>+20(SB)/4, $10
DATA permEven<>+24(SB)/4, $12
DATA permEven<>+28(SB)/4, $14
DATA permEven<>+32(SB)/4, $16
DATA permEven<>+36(SB)/4, $18
DATA permEven<>+40(SB)/4, $20
DATA permEven<>+44(SB)/4, $22
DATA permEven<>+48(SB)/4, $24
DATA permEven<>+52(SB)/4, $26
DATA permEven<>+56(SB)/4, $28
DATA permEven<>+60(SB)/4, $30
GLOBL permEven<>(SB), RODATA|NOPTR, $64

DATA permOdd<>+0(SB)/4, $1
DATA permOdd<>+4(SB)/4, $3
DATA permOdd<>+8(SB)/4, $5
DATA permOdd<>+12(SB)/4, $7
DATA permOdd<>+16(SB)/4, $9
DATA permOdd<>+20(SB)/4, $11
DATA permOdd<>+24(SB)/4, $13
DATA permOdd<>+28(SB)/4, $15
DATA permOdd<>+32(SB)/4, $17
DATA permOdd<>+36(SB)/4, $19
DATA permOdd<>+40(SB)/4, $21
DATA permOdd<>+44(SB)/4, $23
DATA permOdd<>+48(SB)/4, $25
DATA permOdd<>+52(SB)/4, $27
DATA permOdd<>+56(SB)/4, $29
DATA permOdd<>+60(SB)/4, $31
GLOBL permOdd<>(SB), RODATA|NOPTR, $64

DATA permLo<>+0(SB)/4, $0
DATA permLo<>+4(SB)/4, $16
DATA permLo<>+8(SB)/4, $1
DATA permLo<>+12(SB)/4, $17
DATA permLo<>+16(SB)/4, $2
DATA permLo<>+20(SB)/4, $18
DATA permLo<>+24(SB)/4, $3
DATA permLo<>+28(SB)/4, $19
DATA permLo<>+32(SB)/4, $4
DATA permLo<>+36(SB)/4, $20
DATA permLo<>+40(SB)/4, $5
DATA permLo<>+44(SB)/4, $21
DATA permLo<>+48(SB)/4, $6
DATA permLo<>+52(SB)/4, $22
DATA permLo<>+56(SB)/4, $7
DATA permLo<>+60(SB)/4, $23
GLOBL permLo<>(SB), RODATA|NOPTR, $64

DATA permHi<>+0(SB)/4, $8
DATA permHi<>+4(SB)/4, $24
DATA permHi<>+8(SB)/4, $9
DATA permHi<>+12(SB)/4, $25
DATA permHi<>+16(SB)/4, $10
DATA permHi<>+20(SB)/4, $26
DATA permHi<>+24(SB)/4, $11
DATA permHi<>+28(SB)/4, $27
DATA permHi<>+32(SB)/4, $12
DATA permHi<>+36(SB)/4, $28
DATA permHi<>+40(SB)/4, $13
DATA permHi<>+44(SB)/4, $29
DATA permHi<>+48(SB)/4, $14
DATA permHi<>+52(SB)/4, $30
DATA permHi<>+56(SB)/4, $15
DATA permHi<>+60(SB)/4, $31
GLOBL permHi<>(SB), RODATA|NOPTR, $64

// func relu512(y, x *float32, n int)
// y = x where x > 0 or x is NaN (compare NLE_UQ with 0), +0 elsewhere.
TEXT ·relu512(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VPXORD Z31, Z31, Z31
	XORQ BX, BX

reluLoop:
	VMOVUPS (SI)(BX*4), Z0
	VCMPPS $6, Z31, Z0, K1 // K1 = !(x <= 0): x > 0 or unordered
	VMOVUPS.Z Z0, K1, Z1
	VMOVUPS Z1, (DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT reluLoop
	VZEROUPPER
	RET

// func reluGrad512(dx, y, gr *float32, n int)
// dx = g where y's bits are not all zero, +0 elsewhere.
TEXT ·reluGrad512(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ gr+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ BX, BX

reluGradLoop:
	VMOVDQU32 (SI)(BX*4), Z0
	VPTESTMD Z0, Z0, K1
	VMOVUPS.Z (DX)(BX*4), K1, Z1
	VMOVUPS Z1, (DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT reluGradLoop
	VZEROUPPER
	RET

// func addConst512(y, x *float32, n int, c float32)
TEXT ·addConst512(SB), NOSPLIT, $0-28
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS c+24(FP), Z31
	XORQ BX, BX

addConstLoop:
	VMOVUPS (SI)(BX*4), Z0
	VADDPS Z31, Z0, Z0 // x + c
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT addConstLoop
	VZEROUPPER
	RET

// Tail masks of a row of ow outputs: K7 the last rem = ow mod 16 outputs,
// K5 and K6 their 2·rem inputs in the first and second vector of 16. Uses
// AX, R10, R11, CX.
#define TAILMASKS \
	MOVQ R9, R10; \
	ANDQ $15, R10; \
	MOVQ R10, CX; \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, K7; \
	LEAQ (R10)(R10*1), R11; \
	MOVQ R11, CX; \
	CMPQ CX, $16; \
	JLE 2(PC); \
	MOVQ $16, CX; \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, K5; \
	SUBQ CX, R11; \
	MOVQ R11, CX; \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, K6

// POOLSETUP, shared by the pool and its gradient (ow in R9): the argmax
// constants 3, 2, 1 (Z22, Z24, Z25) and 0 (Z23, also +0.0), the tail masks,
// the outputs of a row in full blocks in R11, the row counter R12 = 0.
#define POOLSETUP \
	MOVL $3, AX; \
	VPBROADCASTD AX, Z22; \
	MOVL $2, AX; \
	VPBROADCASTD AX, Z24; \
	MOVL $1, AX; \
	VPBROADCASTD AX, Z25; \
	VPXORD Z23, Z23, Z23; \
	TAILMASKS; \
	MOVQ R9, R11; \
	ANDQ $-16, R11; \
	XORQ R12, R12

// POOLCORE: from the two vectors of a window row pair's inputs (Z0, Z1 of
// row 2i; Z10, Z11 of row 2i+1) the windows' a, b, c, d (Z2–Z5); a NaN
// jumps to nanLabel; m into Z8 and, the argmax into Z9.
#define POOLCORE(nanLabel) \
	VMOVDQA32 Z20, Z2; \
	VPERMI2PS Z1, Z0, Z2; \
	VMOVDQA32 Z21, Z3; \
	VPERMI2PS Z1, Z0, Z3; \
	VMOVDQA32 Z20, Z4; \
	VPERMI2PS Z11, Z10, Z4; \
	VMOVDQA32 Z21, Z5; \
	VPERMI2PS Z11, Z10, Z5; \
	VCMPPS $3, Z3, Z2, K1; \
	VCMPPS $3, Z5, Z4, K2; \
	KORW K1, K2, K1; \
	KORTESTW K1, K1; \
	JNE nanLabel; \
	VMAXPS Z3, Z2, Z6; \
	VCMPPS $0, Z3, Z2, K3; \
	VANDPS Z3, Z2, K3, Z6; \
	VMAXPS Z4, Z6, Z7; \
	VCMPPS $0, Z4, Z6, K3; \
	VANDPS Z4, Z6, K3, Z7; \
	VMAXPS Z5, Z7, Z8; \
	VCMPPS $0, Z5, Z7, K3; \
	VANDPS Z5, Z7, K3, Z8; \
	VCMPPS $0, Z8, Z2, K1; \
	VCMPPS $0, Z8, Z3, K2; \
	VCMPPS $0, Z8, Z4, K3; \
	VMOVDQA32 Z22, Z9; \
	VMOVDQA32 Z24, K3, Z9; \
	VMOVDQA32 Z25, K2, Z9; \
	VMOVDQA32 Z23, K1, Z9

// func maxPool2x2512(y *float32, arg *uint8, x *float32, w, ow, oh int) (rows int)
// For 16 outputs of a row: a, b = the even and odd elements of 32 inputs
// of row 2i, c, d those of row 2i+1; m = max(max(max(a, b), c), d) as Go's
// max for non-NaN values (VMAXPS, then x AND y where x == y: the same bits
// for equal non-zero values, +0 unless both are −0); arg = 0 where a == m,
// else 1 where b == m, else 2 where c == m, else 3. The last block of a
// row is masked (masked-off inputs load as +0). A row with a NaN stops the
// loop before it is written.
TEXT ·maxPool2x2512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ arg+8(FP), R8
	MOVQ x+16(FP), SI
	MOVQ w+24(FP), R13
	SHLQ $2, R13          // row stride in bytes
	MOVQ ow+32(FP), R9
	VMOVDQU32 permEven<>(SB), Z20
	VMOVDQU32 permOdd<>(SB), Z21
	POOLSETUP
	MOVQ oh+40(FP), R10

poolRow:
	CMPQ R12, R10
	JGE poolDone
	LEAQ (SI)(R13*1), DX  // row 2i+1
	XORQ BX, BX

poolBlock:
	CMPQ BX, R11
	JGE poolTail
	VMOVUPS (SI)(BX*8), Z0
	VMOVUPS 64(SI)(BX*8), Z1
	VMOVUPS (DX)(BX*8), Z10
	VMOVUPS 64(DX)(BX*8), Z11
	POOLCORE(poolDone)
	VMOVUPS Z8, (DI)(BX*4)
	TESTQ R8, R8
	JEQ poolNoArg
	VPMOVDB Z9, (R8)(BX*1)

poolNoArg:
	ADDQ $16, BX
	JMP poolBlock

poolTail:
	CMPQ BX, R9
	JGE poolNextRow
	VMOVUPS.Z (SI)(BX*8), K5, Z0
	VMOVUPS.Z 64(SI)(BX*8), K6, Z1
	VMOVUPS.Z (DX)(BX*8), K5, Z10
	VMOVUPS.Z 64(DX)(BX*8), K6, Z11
	POOLCORE(poolDone)
	VMOVUPS Z8, K7, (DI)(BX*4)
	TESTQ R8, R8
	JEQ poolNextRow
	VPMOVDB Z9, K7, (R8)(BX*1)

poolNextRow:
	INCQ R12
	LEAQ (SI)(R13*2), SI  // two input rows on
	LEAQ (DI)(R9*4), DI
	TESTQ R8, R8
	JEQ poolRow
	ADDQ R9, R8
	JMP poolRow

poolDone:
	MOVQ R12, rows+48(FP)
	VZEROUPPER
	RET

// POOLGRAD: from v (Z0) and the argmax as dwords (Z1): the four windows'
// values q0–q3 (v where arg&3 is j, +0 elsewhere) interleaved into the
// two vectors of row 2i (Z6, Z7) and of row 2i+1 (Z16, Z17).
#define POOLGRAD \
	VADDPS Z23, Z0, Z0; \
	VPANDD Z22, Z1, Z1; \
	VPCMPEQD Z23, Z1, K1; \
	VPCMPEQD Z25, Z1, K2; \
	VPCMPEQD Z24, Z1, K3; \
	VPCMPEQD Z22, Z1, K4; \
	VMOVUPS.Z Z0, K1, Z2; \
	VMOVUPS.Z Z0, K2, Z3; \
	VMOVUPS.Z Z0, K3, Z4; \
	VMOVUPS.Z Z0, K4, Z5; \
	VMOVDQA32 Z20, Z6; \
	VPERMI2PS Z3, Z2, Z6; \
	VMOVDQA32 Z21, Z7; \
	VPERMI2PS Z3, Z2, Z7; \
	VMOVDQA32 Z20, Z16; \
	VPERMI2PS Z5, Z4, Z16; \
	VMOVDQA32 Z21, Z17; \
	VPERMI2PS Z5, Z4, Z17

// func maxPool2x2Grad512(dx, dy *float32, arg *uint8, w, ow, oh int)
// v = 0 + dy; q_j = v where arg&3 == j, +0 elsewhere; row 2i of dx =
// interleave(q0, q1), row 2i+1 = interleave(q2, q3); the last block of a
// row masked.
TEXT ·maxPool2x2Grad512(SB), NOSPLIT, $0-48
	MOVQ dx+0(FP), SI
	MOVQ dy+8(FP), DI
	MOVQ arg+16(FP), R8
	MOVQ w+24(FP), R13
	SHLQ $2, R13
	MOVQ ow+32(FP), R9
	VMOVDQU32 permLo<>(SB), Z20
	VMOVDQU32 permHi<>(SB), Z21
	POOLSETUP
	MOVQ oh+40(FP), R10

gradRow:
	CMPQ R12, R10
	JGE gradDone
	LEAQ (SI)(R13*1), DX
	XORQ BX, BX

gradBlock:
	CMPQ BX, R11
	JGE gradTail
	VMOVUPS (DI)(BX*4), Z0
	VPMOVZXBD (R8)(BX*1), Z1
	POOLGRAD
	VMOVUPS Z6, (SI)(BX*8)
	VMOVUPS Z7, 64(SI)(BX*8)
	VMOVUPS Z16, (DX)(BX*8)
	VMOVUPS Z17, 64(DX)(BX*8)
	ADDQ $16, BX
	JMP gradBlock

gradTail:
	CMPQ BX, R9
	JGE gradNextRow
	VMOVUPS.Z (DI)(BX*4), K7, Z0
	VPMOVZXBD.Z (R8)(BX*1), K7, Z1
	POOLGRAD
	VMOVUPS Z6, K5, (SI)(BX*8)
	VMOVUPS Z7, K6, 64(SI)(BX*8)
	VMOVUPS Z16, K5, (DX)(BX*8)
	VMOVUPS Z17, K6, 64(DX)(BX*8)

gradNextRow:
	INCQ R12
	LEAQ (SI)(R13*2), SI
	LEAQ (DI)(R9*4), DI
	ADDQ R9, R8
	JMP gradRow

gradDone:
	VZEROUPPER
	RET
