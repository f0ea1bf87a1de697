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

// func copy16(dst, src *float32, rows, srcStride, dstStride int, mask uint16)
// For r in [0, rows): dst[r·dstStride : +16] = src[r·srcStride + l] for the
// lanes l set in mask, 0 in the others (16 floats are always written; only
// the masked lanes of src are read). Packs a partial panel of B.
TEXT ·copy16(SB), NOSPLIT, $0-42
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    rows+16(FP), CX
	MOVQ    srcStride+24(FP), R8
	SHLQ    $2, R8
	MOVQ    dstStride+32(FP), R9
	SHLQ    $2, R9
	MOVWQZX mask+40(FP), BX
	KMOVW   BX, K1
	TESTQ   CX, CX
	JEQ     cdone

cloop:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS   Z0, (DI)
	ADDQ      R8, SI
	ADDQ      R9, DI
	DECQ      CX
	JNE       cloop

cdone:
	VZEROUPPER
	RET

// func scale16(dst, src *float32, rows, srcStride, dstStride int, mask uint16, alpha float32)
// For r in [0, rows): dst[r·dstStride + l] = alpha·src[r·srcStride + l] for
// the lanes l set in mask (the others neither read nor written). Packs
// transposed A (each row of a panel is contiguous in A).
TEXT ·scale16(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         rows+16(FP), CX
	MOVQ         srcStride+24(FP), R8
	SHLQ         $2, R8
	MOVQ         dstStride+32(FP), R9
	SHLQ         $2, R9
	MOVWQZX      mask+40(FP), BX
	KMOVW        BX, K1
	VBROADCASTSS alpha+44(FP), Z2
	TESTQ        CX, CX
	JEQ          sdone

sloop:
	VMOVUPS.Z (SI), K1, Z0
	VMULPS    Z2, Z0, Z0
	VMOVUPS   Z0, K1, (DI)
	ADDQ      R8, SI
	ADDQ      R9, DI
	DECQ      CX
	JNE       sloop

sdone:
	VZEROUPPER
	RET
