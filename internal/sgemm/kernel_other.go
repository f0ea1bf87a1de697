//go:build !amd64

package sgemm

func kernel6x16(k int, a, b, c *float32, ldc int, add bool) {
	panic("sgemm: no kernel on this architecture")
}
func kernel12x32(k int, a, b, c *float32, ldc int, add bool) {
	panic("sgemm: no kernel on this architecture")
}
func kernel24x16(k int, a, b, c *float32, ldc int, add bool) {
	panic("sgemm: no kernel on this architecture")
}

func gather16(dst, src *float32, idx *[16]int32, mask uint16, depth, dstStride int, alpha float32) {
	panic("sgemm: no gather on this architecture")
}

func copy16(dst, src *float32, rows, srcStride, dstStride int, mask uint16) {
	panic("sgemm: no copy16 on this architecture")
}

func scale16(dst, src *float32, rows, srcStride, dstStride int, mask uint16, alpha float32) {
	panic("sgemm: no scale16 on this architecture")
}
