#include "textflag.h"

// func gather16(dst, src *float32, idx *[16]int32, mask uint16, depth, dstStride int, alpha float32)
// For p in [0, depth): dst[p·dstStride + l] = alpha·src[p + idx[l]] for the
// lanes l set in mask (the others are not written). Packs up to 16 rows of a
// row-major matrix (idx[l] = l·ld) into a panel whose rows are depth-major.
TEXT ·gather16(SB), NOSPLIT, $0-52
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         idx+16(FP), AX
	MOVWQZX      mask+24(FP), BX
	MOVQ         depth+32(FP), CX
	MOVQ         dstStride+40(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS alpha+48(FP), Z2
	VMOVDQU32    (AX), Z1
	KMOVW        BX, K2
	TESTQ        CX, CX
	JEQ          done

loop:
	KMOVW        BX, K1
	VGATHERDPS   (SI)(Z1*4), K1, Z0
	VMULPS       Z2, Z0, Z0
	VMOVUPS      Z0, K2, (DI)
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNE          loop

done:
	VZEROUPPER
	RET
