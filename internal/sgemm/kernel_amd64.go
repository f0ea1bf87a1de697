package sgemm

// kernel6x16 adds the product of a packed 6×k panel of A (a[p·6+i]) and a
// packed k×16 panel of B (b[p·16+j]) into the 6×16 block of C at c, whose
// rows are ldc floats apart (with add false: stores it there, C unread).
// AVX2 and FMA.
//
//go:noescape
func kernel6x16(k int, a, b, c *float32, ldc int, add bool)

// kernel12x32 is kernel6x16 for a 12×k panel of A and a k×32 panel of B, with
// AVX-512F (32 ZMM registers: 24 accumulators).
//
//go:noescape
func kernel12x32(k int, a, b, c *float32, ldc int, add bool)

// kernel24x16 is kernel6x16 for a 24×k panel of A and a k×16 panel of B, with
// AVX-512F, for narrow products (n ≤ 16).
//
//go:noescape
func kernel24x16(k int, a, b, c *float32, ldc int, add bool)

// gather16 writes dst[p·dstStride+l] = alpha·src[p+idx[l]] for p < depth and
// the lanes l set in mask, with AVX-512 gathers: it packs up to 16 rows of a
// row-major matrix into a depth-major panel (A without transpose, B
// transposed) at a fraction of a scalar loop's cost.
//
//go:noescape
func gather16(dst, src *float32, idx *[16]int32, mask uint16, depth, dstStride int, alpha float32)

// copy16 writes dst[r·dstStride+l] = src[r·srcStride+l] for the lanes l set
// in mask and 0 for the others, l < 16, r < rows (AVX-512 masked loads).
//
//go:noescape
func copy16(dst, src *float32, rows, srcStride, dstStride int, mask uint16)

// scale16 writes dst[r·dstStride+l] = alpha·src[r·srcStride+l] for r < rows
// and the lanes l < 16 set in mask (AVX-512 masked loads and stores).
//
//go:noescape
func scale16(dst, src *float32, rows, srcStride, dstStride int, mask uint16, alpha float32)
